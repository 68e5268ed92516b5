"""Reports a node hands to people outside it: donor traceability reports (PDF).

``donor_model`` holds the report's data (pure, no I/O), ``donor_text`` every
user-facing string and the locale formatting, ``donor_pdf`` the rendering.
"""
