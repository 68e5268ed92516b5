#!/bin/bash
# Shared by the package's scripts (sourced before YunoHost's helpers 2.1).
#
# Maillon lives in a virtual environment under $install_dir/venv, built
# from the release archive unpacked in $install_dir/source; the node's
# data directory (node.toml, node.key, node.db, files/) is $data_dir.

maillon_bin() {
    echo "$install_dir/venv/bin/maillon"
}

# (Re)build the virtual environment from $install_dir/source.
maillon_install_venv() {
    ynh_exec_as_app python3 -m venv --clear "$install_dir/venv"
    ynh_hide_warnings ynh_exec_as_app "$install_dir/venv/bin/pip" install --no-cache-dir --upgrade pip
    ynh_hide_warnings ynh_exec_as_app "$install_dir/venv/bin/pip" install --no-cache-dir "$install_dir/source"
}
