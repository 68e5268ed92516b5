"""The address an invitation gives: the node's public URL, else one another machine can reach."""

from __future__ import annotations

from dataclasses import replace

from federation.commands import base_url, invite_text
from node.config import Config, init_node


def test_an_invitation_never_names_the_any_address(tmp_path):
    node = init_node(tmp_path / "hub", Config(name="Hub", role="hub", host="0.0.0.0", port=8471))
    url = base_url(node)
    assert url.startswith("http://") and url.endswith(":8471") and "0.0.0.0" not in url
    assert f"maillon join {url} --token T --fingerprint {node.key.public.fingerprint}" == invite_text(node, "T")
    public = replace(node, config=replace(node.config, url="https://hub.example.org/"))
    assert base_url(public) == "https://hub.example.org"
    local = replace(node, config=replace(node.config, host="127.0.0.1"))
    assert base_url(local) == "http://127.0.0.1:8471"
