"""The ``maillon`` command line: parsing, the data commands, and the demonstration data."""
