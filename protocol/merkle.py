"""Merkle tree hashing and proofs of RFC 9162 (Certificate Transparency 2.0).

The tree is that of RFC 9162 section 2.1: leaf hash ``SHA-256(0x00 || data)``,
node hash ``SHA-256(0x01 || left || right)``, ``MTH({}) = SHA-256()``, and a
list of ``n > 1`` entries splits at the largest power of two below ``n``.

Everything works on leaf *hashes*, so that a store can keep 32-byte hashes
only; proofs are plain lists of 32-byte hashes. The free functions hash all
the leaves they are given, O(n) per call; :class:`MerkleTree` caches every
perfect subtree so that its roots and proofs cost O(log n) hashes.

Verification failures raise ``ProofInvalid(Reason.BAD_PROOF, ...)``; bad
arguments to the generating functions raise :class:`ValueError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from protocol.errors import ProofInvalid, Reason

__all__ = [
    "HASH_SIZE",
    "EMPTY_ROOT",
    "leaf_hash",
    "node_hash",
    "root",
    "root_of_data",
    "inclusion_proof",
    "verify_inclusion",
    "consistency_proof",
    "verify_consistency",
    "MerkleTree",
]

HASH_SIZE = 32
"""Length in bytes of every hash: leaf, node, root and proof element."""

_sha256 = hashlib.sha256

EMPTY_ROOT: bytes = _sha256(b"").digest()
"""``MTH({})``, the root of the empty tree (RFC 9162 section 2.1.1)."""


def leaf_hash(data: bytes) -> bytes:
    """Return the hash of one leaf: ``SHA-256(0x00 || data)``."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the hash of an interior node: ``SHA-256(0x01 || left || right)``."""
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(h: object, what: str) -> None:
    if not isinstance(h, (bytes, bytearray)) or len(h) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes")


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash of a list of leaf hashes (RFC 9162 2.1.1)."""
    return MerkleTree(leaf_hashes).root()


def root_of_data(leaves: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash of a list of leaf *data* (hashed first)."""
    return root([leaf_hash(d) for d in leaves])


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Return PATH(index, D_n) (RFC 9162 2.1.3.1) for the tree of ``leaf_hashes``.

    Ordered from the leaf's sibling up to a child of the root. Builds the
    whole tree, O(n); keep a :class:`MerkleTree` to answer many proofs.
    """
    return MerkleTree(leaf_hashes).inclusion_proof(index)


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """Return PROOF(old_size, D_n) (RFC 9162 2.1.4.1) for the tree of ``leaf_hashes``.

    Empty when ``old_size == n``. ``old_size`` 0 is refused with ValueError:
    the RFC defines no proof for it, as every tree extends the empty one.
    """
    return MerkleTree(leaf_hashes).consistency_proof(old_size)


def _bad(message: str) -> ProofInvalid:
    return ProofInvalid(Reason.BAD_PROOF, message)


def _check_proof_hash(h: object, what: str) -> bytes:
    try:
        _check_hash(h, what)
    except ValueError as e:
        raise _bad(str(e)) from None
    return bytes(h)  # type: ignore[arg-type]


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree ``(tree_size, root)``.

    Implements RFC 9162 section 2.1.3.2 step by step. Returns ``None`` on
    success; raises ``ProofInvalid(Reason.BAD_PROOF, ...)`` otherwise.
    """
    hash_ = _check_proof_hash(leaf_hash, "leaf hash")
    root_ = _check_proof_hash(root, "root")
    # Step 1; the RFC's sizes are unsigned, so a negative index is out of range.
    if not 0 <= index < tree_size:
        raise _bad(f"leaf index {index} out of range for tree size {tree_size}")
    fn, sn = index, tree_size - 1  # step 2
    r = hash_  # step 3
    for i, p in enumerate(proof):  # step 4
        if sn == 0:
            raise _bad(f"inclusion proof too long: {len(proof)} hashes")
        p = _check_proof_hash(p, f"inclusion proof element {i}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # step 5
        raise _bad(f"inclusion proof too short: {len(proof)} hashes")
    if r != root_:
        raise _bad("inclusion proof does not lead to the given root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that tree ``(new_size, new_root)`` extends ``(old_size, old_root)``.

    Implements RFC 9162 section 2.1.4.2 step by step for
    ``0 < old_size < new_size``. ``old_size == new_size`` is accepted only with
    an empty proof and identical roots. ``old_size`` 0 is refused, as the RFC
    defines no proof for it; a caller that holds no tree head yet needs none.
    Returns ``None`` on success; raises ``ProofInvalid(Reason.BAD_PROOF, ...)``.
    """
    first_hash = _check_proof_hash(old_root, "old root")
    second_hash = _check_proof_hash(new_root, "new root")
    if old_size < 1:
        raise _bad(f"old size {old_size}: consistency needs 0 < old_size (RFC 9162 2.1.4)")
    if old_size > new_size:
        raise _bad(f"old size {old_size} is larger than new size {new_size}")
    path = [_check_proof_hash(p, f"consistency proof element {i}") for i, p in enumerate(proof)]
    if old_size == new_size:
        if path:
            raise _bad("consistency proof between equal sizes must be empty")
        if first_hash != second_hash:
            raise _bad(f"roots differ for the same tree size {old_size}")
        return
    if not path:  # step 1
        raise _bad("consistency proof is empty")
    if old_size & (old_size - 1) == 0:  # step 2
        path.insert(0, first_hash)
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            raise _bad(f"consistency proof too long: {len(proof)} hashes")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # step 7
        raise _bad(f"consistency proof too short: {len(proof)} hashes")
    if fr != first_hash:
        raise _bad("consistency proof does not lead to the old root")
    if sr != second_hash:
        raise _bad("consistency proof does not lead to the new root")


class MerkleTree:
    """An append-only RFC 9162 tree over leaf hashes, with cached subtrees.

    ``_levels[k][i]`` is the hash of the perfect subtree of ``2**k`` leaves
    starting at leaf ``i * 2**k``; level 0 is the leaf hashes themselves. Every
    subtree hash a root or proof needs is then either one lookup or, for the
    single ragged subtree on the right edge, a fold of O(log n) cached peaks.
    Memory is about two hashes per leaf. Roots and proofs can be asked for any
    earlier size too, since the perfect subtrees of a prefix never change.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        """Build the tree from leaf hashes, in O(n) hashes."""
        self._levels: list[list[bytes]] = [[]]
        self.extend(leaf_hashes)

    def __len__(self) -> int:
        return len(self._levels[0])

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0])

    def leaf(self, index: int) -> bytes:
        """Return the hash of leaf ``index``."""
        if not 0 <= index < self.size:
            raise ValueError(f"leaf index {index} out of range for tree size {self.size}")
        return self._levels[0][index]

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash; return its index. Amortised O(1) hashes."""
        _check_hash(leaf_hash, "leaf hash")
        levels = self._levels
        levels[0].append(bytes(leaf_hash))
        k = 0
        # Invariant: len(levels[k + 1]) == len(levels[k]) // 2.
        while len(levels[k]) % 2 == 0:
            if k + 1 == len(levels):
                levels.append([])
            levels[k + 1].append(node_hash(levels[k][-2], levels[k][-1]))
            k += 1
        return len(levels[0]) - 1

    def append_data(self, data: bytes) -> int:
        """Append one leaf by its data; return its index."""
        return self.append(leaf_hash(data))

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append many leaf hashes, level by level rather than leaf by leaf."""
        new = list(leaf_hashes)
        for h in new:
            _check_hash(h, "leaf hash")
        new = [bytes(h) for h in new]
        levels = self._levels
        levels[0].extend(new)
        k = 0
        while len(levels[k]) >= 2:
            if k + 1 == len(levels):
                levels.append([])
            lower, upper = levels[k], levels[k + 1]
            start, stop = len(upper), len(lower) // 2
            if start == stop:
                break
            upper.extend(node_hash(lower[2 * i], lower[2 * i + 1]) for i in range(start, stop))
            k += 1

    def _mth(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) from the cache; ``lo`` need not be aligned, only fast if so."""
        n = hi - lo
        if n & (n - 1) == 0 and lo & (n - 1) == 0:
            k = n.bit_length() - 1
            return self._levels[k][lo >> k]
        k = _split(n)
        return node_hash(self._mth(lo, lo + k), self._mth(lo + k, hi))

    def _size_arg(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"size {size} out of range for tree size {self.size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the first ``size`` leaves (default: all)."""
        size = self._size_arg(size)
        return self._mth(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return PATH(index, D[0:size]) (RFC 9162 2.1.3.1); O(log n) hashes.

        Only the first left turn on the way down can meet a ragged sibling,
        so at most one sibling costs more than a lookup.
        """
        size = self._size_arg(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} out of range for tree size {size}")
        siblings: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                siblings.append(self._mth(lo + k, hi))
                hi = lo + k
            else:
                siblings.append(self._mth(lo, lo + k))
                lo += k
        siblings.reverse()  # the RFC lists the deepest sibling first
        return siblings

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Return PROOF(old_size, D[0:new_size]) (RFC 9162 2.1.4.1); O(log n) hashes.

        This is SUBPROOF(old_size, D[0:new_size], true) unrolled into a loop.
        """
        new_size = self._size_arg(new_size)
        if not 0 < old_size <= new_size:
            raise ValueError(f"old size {old_size} must satisfy 0 < old_size <= {new_size}")
        nodes: list[bytes] = []
        m, lo, hi, b = old_size, 0, new_size, True
        while m != hi:
            k = _split(hi - lo)
            if m - lo <= k:
                nodes.append(self._mth(lo + k, hi))
                hi = lo + k
            else:
                nodes.append(self._mth(lo, lo + k))
                lo, b = lo + k, False
        if not b:
            nodes.append(self._mth(lo, hi))
        nodes.reverse()
        return nodes
