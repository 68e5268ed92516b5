"""Tests of protocol.merkle: RFC 9162 known answers, edge cases, properties."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import ProofInvalid, Reason
from protocol.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    root_of_data,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads(
    (Path(__file__).parent.parent / "vectors" / "merkle_rfc9162.json").read_text()
)
LEAVES = [bytes.fromhex(x) for x in VECTORS["leaves"]]
LEAF_HASHES = [leaf_hash(d) for d in LEAVES]
ROOTS = {int(n): bytes.fromhex(h) for n, h in VECTORS["roots"].items()}
ROOTS[0] = bytes.fromhex(VECTORS["empty_root"])
INCLUSION = VECTORS["inclusion_proofs"]
CONSISTENCY = VECTORS["consistency_proofs"]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def _unhex(hexes: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


def _incl_id(v: dict) -> str:
    return f"{v['index']}-{v['tree_size']}"


def _cons_id(v: dict) -> str:
    return f"{v['old_size']}-{v['new_size']}"


# --- the plain recursive definitions of RFC 9162 2.1, written from the text --


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = _k(len(d))
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def hashes(n: int, salt: bytes = b"") -> list[bytes]:
    return [leaf_hash(salt + i.to_bytes(4, "big")) for i in range(n)]


# --- known answers -----------------------------------------------------------


def test_hash_definitions() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert EMPTY_ROOT == ROOTS[0] == root([]) == root_of_data([]) == MerkleTree().root()


@pytest.mark.parametrize("size", range(0, 9))
def test_vector_roots(size: int) -> None:
    assert root(LEAF_HASHES[:size]) == ROOTS[size]
    assert root_of_data(LEAVES[:size]) == ROOTS[size]
    assert MerkleTree(LEAF_HASHES[:size]).root() == ROOTS[size]
    assert MerkleTree(LEAF_HASHES).root(size) == ROOTS[size]


def test_vector_node_hashes() -> None:
    tree = MerkleTree(LEAF_HASHES)
    for level, row in enumerate(VECTORS["node_hashes"]):
        for i, h in enumerate(row):
            lo, hi = i << level, (i + 1) << level
            assert root(LEAF_HASHES[lo:hi]).hex() == h
            assert tree._mth(lo, hi).hex() == h


@pytest.mark.parametrize("vec", INCLUSION, ids=_incl_id)
def test_vector_inclusion(vec: dict) -> None:
    index, size, proof = vec["index"], vec["tree_size"], _unhex(vec["proof"])
    assert inclusion_proof(LEAF_HASHES[:size], index) == proof
    assert MerkleTree(LEAF_HASHES).inclusion_proof(index, size) == proof
    verify_inclusion(LEAF_HASHES[index], index, size, proof, ROOTS[size])


@pytest.mark.parametrize("vec", CONSISTENCY, ids=_cons_id)
def test_vector_consistency(vec: dict) -> None:
    old, new, proof = vec["old_size"], vec["new_size"], _unhex(vec["proof"])
    assert consistency_proof(LEAF_HASHES[:new], old) == proof
    assert MerkleTree(LEAF_HASHES).consistency_proof(old, new) == proof
    verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


def _rejects(fn: Callable[..., None], *args: object) -> None:
    with pytest.raises(ProofInvalid) as info:
        fn(*args)
    assert info.value.code is Reason.BAD_PROOF


@pytest.mark.parametrize("vec", INCLUSION[1:], ids=_incl_id)
def test_vector_inclusion_probes(vec: dict) -> None:
    """The corruptions transparency-dev/merkle tries on the same vectors."""
    i, n, proof = vec["index"], vec["tree_size"], _unhex(vec["proof"])
    lh, r = LEAF_HASHES[i], ROOTS[n]
    for bad_i, bad_n in [(i - 1, n), (i + 1, n), (i ^ 2, n), (i, n * 2), (i, n // 2)]:
        _rejects(verify_inclusion, lh, bad_i, bad_n, proof, r)
    _rejects(verify_inclusion, leaf_hash(b"WrongLeaf"), i, n, proof, r)
    _rejects(verify_inclusion, b"WrongLeaf", i, n, proof, r)
    _rejects(verify_inclusion, lh, i, n, proof, EMPTY_ROOT)
    _rejects(verify_inclusion, lh, i, n, proof, SOME_HASH)
    for bad in ([*proof, b""], [*proof, r], [b"", *proof], [r, *proof], proof[:-1],
                [proof[0], SOME_HASH, *proof[1:]]):
        _rejects(verify_inclusion, lh, i, n, bad, r)


@pytest.mark.parametrize("vec", CONSISTENCY[1:], ids=_cons_id)
def test_vector_consistency_probes(vec: dict) -> None:
    m, n, proof = vec["old_size"], vec["new_size"], _unhex(vec["proof"])
    r1, r2 = ROOTS[m], ROOTS[n]
    for bad_m, bad_n in [(m - 1, n), (m + 1, n), (m ^ 2, n), (m, n * 2), (m, n // 2)]:
        _rejects(verify_consistency, bad_m, bad_n, r1, r2, proof)
    wrong = b"WrongRoot"
    for bad_r1, bad_r2 in [(wrong, r2), (r1, wrong), (SOME_HASH, r2), (r1, SOME_HASH), (r2, r1)]:
        _rejects(verify_consistency, m, n, bad_r1, bad_r2, proof)
    for bad in ([], [*proof, b""], [*proof, r1], [*proof, r2], [b"", *proof], [r1, *proof],
                [r2, *proof], [proof[0], *proof], proof[:-1]):
        _rejects(verify_consistency, m, n, r1, r2, bad)


# --- edge cases ------------------------------------------------------------


def test_single_leaf() -> None:
    h = leaf_hash(b"data")
    assert root([h]) == h
    verify_inclusion(h, 0, 1, [], h)
    _rejects(verify_inclusion, h, 0, 1, [], b"")
    _rejects(verify_inclusion, b"", 0, 1, [], h)
    _rejects(verify_inclusion, h, 0, 1, [h], h)


@pytest.mark.parametrize("index,size", [(0, 0), (1, 0), (2, 1), (1, 1), (-1, 1)])
def test_inclusion_index_out_of_range(index: int, size: int) -> None:
    _rejects(verify_inclusion, SOME_HASH, index, size, [], EMPTY_ROOT)
    with pytest.raises(ValueError):
        inclusion_proof(hashes(size), index)
    with pytest.raises(ValueError):
        MerkleTree(hashes(size)).inclusion_proof(index)


def test_consistency_edge_cases() -> None:
    r1, r2 = ROOTS[1], ROOTS[2]
    verify_consistency(1, 1, r1, r1, [])
    verify_consistency(8, 8, ROOTS[8], ROOTS[8], [])
    _rejects(verify_consistency, 1, 1, r1, r2, [])  # same size, other root
    _rejects(verify_consistency, 1, 1, r1, r1, [EMPTY_ROOT])  # must be empty
    _rejects(verify_consistency, 2, 1, r2, r1, [])  # time travel
    _rejects(verify_consistency, 1, 2, r1, r2, [])  # empty proof
    # Size 0 is outside RFC 9162 (0 < first): refused even with an empty proof.
    _rejects(verify_consistency, 0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    _rejects(verify_consistency, 0, 1, EMPTY_ROOT, r1, [])
    _rejects(verify_consistency, -1, 1, EMPTY_ROOT, r1, [])
    assert consistency_proof(LEAF_HASHES, 8) == []
    with pytest.raises(ValueError):
        consistency_proof(LEAF_HASHES, 0)
    with pytest.raises(ValueError):
        consistency_proof(LEAF_HASHES, 9)
    with pytest.raises(ValueError):
        MerkleTree(LEAF_HASHES).consistency_proof(5, 4)
    with pytest.raises(ValueError):
        MerkleTree(LEAF_HASHES).consistency_proof(1, 9)


def test_bad_leaf_hashes_refused() -> None:
    tree = MerkleTree()
    for bad in (b"", b"x" * 31, b"x" * 33, 32, "x" * 32):
        with pytest.raises((ValueError, TypeError)):
            tree.append(bad)  # type: ignore[arg-type]
        with pytest.raises((ValueError, TypeError)):
            tree.extend([LEAF_HASHES[0], bad])  # type: ignore[list-item]
        with pytest.raises((ValueError, TypeError)):
            root([bad])  # type: ignore[list-item]
    assert len(tree) == 0
    with pytest.raises(ValueError):
        tree.root(1)


def test_tree_accessors() -> None:
    tree = MerkleTree()
    assert [tree.append_data(d) for d in LEAVES] == list(range(8))
    assert tree.size == len(tree) == 8
    assert [tree.leaf(i) for i in range(8)] == LEAF_HASHES
    with pytest.raises(ValueError):
        tree.leaf(8)


def test_larger_tree_against_free_functions() -> None:
    # Big enough for many levels and a ragged right edge (5000 = 0b1001110001000).
    leaves = hashes(5000)
    tree = MerkleTree(leaves)
    assert tree.root() == root(leaves)
    for size in (1, 2, 3, 4096, 4097, 4999, 5000):
        r = tree.root(size)
        assert r == root(leaves[:size])
        for index in {0, size // 3, size - 1}:
            proof = tree.inclusion_proof(index, size)
            assert proof == inclusion_proof(leaves[:size], index)
            verify_inclusion(leaves[index], index, size, proof, r)
        for old in {1, size // 2 or 1, size - 1 or 1, size}:
            proof = tree.consistency_proof(old, size)
            assert proof == consistency_proof(leaves[:size], old)
            verify_consistency(old, size, tree.root(old), r, proof)


# --- properties ------------------------------------------------------------

sizes = st.integers(min_value=1, max_value=70)


@settings(deadline=None)  # a shared machine: no timing in tests
@given(sizes)
def test_class_and_free_functions_match_reference(n: int) -> None:
    leaves = hashes(n)
    appended = MerkleTree()
    for h in leaves:
        appended.append(h)
    extended = MerkleTree(leaves[:n // 3])
    extended.extend(leaves[n // 3:])
    bulk = MerkleTree(leaves)
    for size in range(0, n + 1):
        want = ref_mth(leaves[:size])
        assert root(leaves[:size]) == appended.root(size) == extended.root(size) == bulk.root(size) == want
    for index in range(n):
        want = ref_path(index, leaves)
        assert inclusion_proof(leaves, index) == appended.inclusion_proof(index) == want
        assert bulk.inclusion_proof(index) == want
    for old in range(1, n + 1):
        want = ref_subproof(old, leaves, True)
        assert consistency_proof(leaves, old) == appended.consistency_proof(old) == want
        assert bulk.consistency_proof(old) == want


@settings(deadline=None)  # a shared machine: no timing in tests
@given(sizes)
def test_every_proof_verifies(n: int) -> None:
    leaves = hashes(n, b"v")
    tree = MerkleTree(leaves)
    for size in range(1, n + 1):
        r = tree.root(size)
        for index in range(size):
            verify_inclusion(leaves[index], index, size, tree.inclusion_proof(index, size), r)
        for old in range(1, size + 1):
            verify_consistency(old, size, tree.root(old), r, tree.consistency_proof(old, size))


def _mutations(data: st.DataObject, proof: list[bytes]) -> list[bytes]:
    """Return ``proof`` with one bit flipped or one hash dropped or added."""
    kinds = ["add"] + (["flip", "drop"] if proof else [])
    kind = data.draw(st.sampled_from(kinds))
    bad = list(proof)
    if kind == "flip":
        i = data.draw(st.integers(0, len(bad) - 1))
        bit = data.draw(st.integers(0, 8 * 32 - 1))
        h = bytearray(bad[i])
        h[bit // 8] ^= 1 << (bit % 8)
        bad[i] = bytes(h)
    elif kind == "drop":
        del bad[data.draw(st.integers(0, len(bad) - 1))]
    else:
        extra = data.draw(st.sampled_from(proof) | st.binary(min_size=32, max_size=32)) if proof else (
            data.draw(st.binary(min_size=32, max_size=32)))
        bad.insert(data.draw(st.integers(0, len(bad))), extra)
    return bad


@settings(deadline=None)  # a shared machine: no timing in tests
@given(st.data(), sizes)
def test_mutated_inclusion_proof_fails(data: st.DataObject, n: int) -> None:
    leaves = hashes(n, b"m")
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, n - 1))
    bad = _mutations(data, tree.inclusion_proof(index))
    _rejects(verify_inclusion, leaves[index], index, n, bad, tree.root())


@settings(deadline=None)  # a shared machine: no timing in tests
@given(st.data(), sizes)
def test_mutated_consistency_proof_fails(data: st.DataObject, n: int) -> None:
    tree = MerkleTree(hashes(n, b"c"))
    old = data.draw(st.integers(1, n))
    bad = _mutations(data, tree.consistency_proof(old))
    _rejects(verify_consistency, old, n, tree.root(old), tree.root(), bad)


@settings(deadline=None)  # a shared machine: no timing in tests
@given(st.data(), st.integers(min_value=2, max_value=70))
def test_proof_for_other_position_fails(data: st.DataObject, n: int) -> None:
    leaves = hashes(n, b"o")
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, n - 1))
    other = data.draw(st.integers(0, n - 1).filter(lambda j: j != index))
    proof = tree.inclusion_proof(index)
    _rejects(verify_inclusion, leaves[index], other, n, proof, tree.root())
    _rejects(verify_inclusion, leaves[other], index, n, proof, tree.root())
    old = data.draw(st.integers(1, n - 1))
    other_old = data.draw(st.integers(1, n - 1).filter(lambda j: j != old))
    cproof = tree.consistency_proof(old)
    _rejects(verify_consistency, other_old, n, tree.root(old), tree.root(), cproof)
    _rejects(verify_consistency, old, n, tree.root(other_old), tree.root(), cproof)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=40))
def test_root_of_data_matches_reference(leaves: list[bytes]) -> None:
    assert root_of_data(leaves) == ref_mth([hashlib.sha256(b"\x00" + d).digest() for d in leaves])


def test_tree_proofs_cost_logarithmic_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    import protocol.merkle as merkle

    n = (1 << 16) + 12345  # ragged right edge: several peaks
    tree = MerkleTree(hashes(n))
    calls = 0
    real = merkle.node_hash

    def counting(left: bytes, right: bytes) -> bytes:
        nonlocal calls
        calls += 1
        return real(left, right)

    monkeypatch.setattr(merkle, "node_hash", counting)
    bound = n.bit_length()
    for size in (n, n - 1, 1 << 16, 40000):
        for op in (lambda: tree.root(size),
                   lambda: tree.inclusion_proof(0, size),
                   lambda: tree.inclusion_proof(size - 1, size),
                   lambda: tree.inclusion_proof(size // 3, size),
                   lambda: tree.consistency_proof(size // 2 + 1, size),
                   lambda: tree.consistency_proof(size - 1, size)):
            calls = 0
            op()
            assert calls <= bound
