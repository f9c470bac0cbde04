"""Tests for pepperpy.security._encryption: envelopes, rotation, streams, sealed boxes, fields."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.core.types import ManualClock
from pepperpy.security import (
    BoxKeyPair,
    DecryptionError,
    Encryptor,
    FieldEncryptor,
    KeyRing,
    encrypted,
    seal,
    unseal,
)

FIXED = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def enc(keyring: KeyRing) -> Encryptor:
    return Encryptor(keyring)


class TestEnvelope:
    @FIXED
    @given(data=st.binary(max_size=2048), context=st.binary(max_size=32))
    def test_roundtrip(self, enc: Encryptor, data: bytes, context: bytes):
        assert enc.decrypt(enc.encrypt(data, context=context), context=context) == data

    def test_nonces_are_fresh(self, enc: Encryptor):
        assert enc.encrypt(b"same") != enc.encrypt(b"same")

    def test_envelope_names_the_key(self, enc: Encryptor, keyring: KeyRing):
        assert enc.key_id(enc.encrypt(b"x")) == keyring.active().kid

    @FIXED
    @given(data=st.data())
    def test_every_single_byte_change_is_rejected(self, enc: Encryptor, data):
        envelope = enc.encrypt(b"attack at dawn", context=b"ctx")
        index = data.draw(st.integers(0, len(envelope) - 1))
        delta = data.draw(st.integers(1, 255))
        tampered = bytearray(envelope)
        tampered[index] ^= delta
        with pytest.raises(DecryptionError):
            enc.decrypt(bytes(tampered), context=b"ctx")

    @FIXED
    @given(cut=st.integers(0, 200))
    def test_truncation_rejected(self, enc: Encryptor, cut: int):
        envelope = enc.encrypt(b"attack at dawn")
        with pytest.raises(DecryptionError):
            enc.decrypt(envelope[: min(cut, len(envelope) - 1)])

    @pytest.mark.parametrize("value", [b"", b"\x01", b"\x02" + b"\x00" * 80, "text", None, 3])
    def test_junk_rejected(self, enc: Encryptor, value: object):
        with pytest.raises(DecryptionError):
            enc.decrypt(value)  # type: ignore[arg-type]

    def test_wrong_context_rejected(self, enc: Encryptor):
        with pytest.raises(DecryptionError):
            enc.decrypt(enc.encrypt(b"x", context=b"user:1"), context=b"user:2")

    def test_other_keyring_cannot_decrypt(self, enc: Encryptor, keyring: KeyRing):
        other = KeyRing()
        other.create(kid=keyring.active().kid)
        with pytest.raises(DecryptionError) as info:
            Encryptor(other).decrypt(enc.encrypt(b"x"))
        assert info.value.context["kid"] == keyring.active().kid

    def test_plaintext_not_in_error(self, enc: Encryptor):
        envelope = bytearray(enc.encrypt(b"TOPSECRETVALUE"))
        envelope[-1] ^= 1
        with pytest.raises(DecryptionError) as info:
            enc.decrypt(bytes(envelope))
        assert "TOPSECRET" not in f"{info.value} {info.value!r} {info.value.to_dict()}"

    def test_text_roundtrip_and_tamper(self, enc: Encryptor):
        text = enc.encrypt_text("héllo")
        assert text.startswith("enc1:") and text.isascii()
        assert enc.decrypt_text(text) == "héllo"
        for bad in ("héllo", "enc1:!!!", text[:-4], text + "AAAA"):
            with pytest.raises(DecryptionError):
                enc.decrypt_text(bad)

    def test_non_bytes_plaintext_rejected(self, enc: Encryptor):
        with pytest.raises(InvalidArgumentError, match="encrypt_text"):
            enc.encrypt("text")  # type: ignore[arg-type]


class TestRotation:
    def test_decrypt_and_rotate(self, enc: Encryptor, keyring: KeyRing, clock: ManualClock):
        old = enc.encrypt(b"data", context=b"c")
        assert enc.decrypt_and_rotate(old, context=b"c") == (b"data", None)
        keyring.rotate(grace=100)
        assert enc.needs_rotation(old)
        plain, new = enc.decrypt_and_rotate(old, context=b"c")
        assert plain == b"data" and new is not None
        assert enc.key_id(new) == keyring.active().kid
        assert enc.rotate(new, context=b"c") == new
        clock.advance_sync(100)
        with pytest.raises(DecryptionError, match="unknown or expired"):
            enc.decrypt(old, context=b"c")
        assert enc.decrypt(new, context=b"c") == b"data"

    def test_retired_without_grace_decrypts_forever(
        self, enc: Encryptor, keyring: KeyRing, clock: ManualClock
    ):
        old = enc.encrypt(b"archive")
        keyring.rotate(grace=None)
        clock.advance_sync(10**9)
        assert enc.decrypt(old) == b"archive"


class TestStreams:
    @FIXED
    @given(data=st.binary(max_size=5000), chunk=st.integers(1, 700), piece=st.integers(1, 900))
    def test_roundtrip_any_chunking(self, enc: Encryptor, data: bytes, chunk: int, piece: int):
        pieces = [data[i : i + piece] for i in range(0, len(data), piece)]
        cipher = b"".join(enc.encrypt_chunks(pieces, chunk_size=chunk))
        split = [cipher[i : i + 333] for i in range(0, len(cipher), 333)]
        assert b"".join(enc.decrypt_chunks(split)) == data

    @FIXED
    @given(data=st.data())
    def test_every_single_byte_change_is_rejected(self, enc: Encryptor, data):
        cipher = b"".join(enc.encrypt_chunks([b"a" * 300], chunk_size=100))
        index = data.draw(st.integers(0, len(cipher) - 1))
        tampered = bytearray(cipher)
        tampered[index] ^= data.draw(st.integers(1, 255))
        with pytest.raises(DecryptionError):
            b"".join(enc.decrypt_chunks([bytes(tampered)]))

    @FIXED
    @given(cut=st.integers(0, 10_000))
    def test_truncation_always_detected(self, enc: Encryptor, cut: int):
        cipher = b"".join(enc.encrypt_chunks([os.urandom(1000)], chunk_size=100))
        with pytest.raises(DecryptionError):
            b"".join(enc.decrypt_chunks([cipher[: min(cut, len(cipher) - 1)]]))

    def test_trailing_data_rejected(self, enc: Encryptor):
        cipher = b"".join(enc.encrypt_chunks([b"abc"]))
        with pytest.raises(DecryptionError, match="after its end"):
            b"".join(enc.decrypt_chunks([cipher, b"x"]))

    def test_reordered_frames_rejected(self, enc: Encryptor):
        encrypter = enc.stream_encrypter(chunk_size=4)
        prologue, frame_a, frame_b = encrypter.update(b"aaaabbbbcccc")
        last = encrypter.finalize()
        assert b"".join(enc.decrypt_chunks([prologue, frame_a, frame_b, last])) == b"aaaabbbbcccc"
        with pytest.raises(DecryptionError):
            b"".join(enc.decrypt_chunks([prologue, frame_b, frame_a, last]))
        with pytest.raises(DecryptionError):
            b"".join(enc.decrypt_chunks([prologue, frame_a, last]))  # a frame dropped

    def test_empty_stream(self, enc: Encryptor):
        cipher = b"".join(enc.encrypt_chunks([]))
        assert b"".join(enc.decrypt_chunks([cipher])) == b""
        with pytest.raises(DecryptionError):
            b"".join(enc.decrypt_chunks([]))

    def test_invalid_chunk_size(self, enc: Encryptor):
        with pytest.raises(InvalidArgumentError):
            list(enc.encrypt_chunks([b"x"], chunk_size=0))

    def test_file_objects(self, enc: Encryptor):
        data = os.urandom(200_000)
        cipher = io.BytesIO()
        enc.encrypt_stream(io.BytesIO(data), cipher, chunk_size=4096)
        cipher.seek(0)
        plain = io.BytesIO()
        assert enc.decrypt_stream(cipher, plain) == len(data)
        assert plain.getvalue() == data

    async def test_files_in_constant_memory(self, enc: Encryptor, tmp_path: Path):
        source = tmp_path / "big.bin"
        with source.open("wb") as handle:
            for _ in range(64):
                handle.write(os.urandom(64 * 1024))
        await enc.encrypt_file(source, tmp_path / "big.enc")
        await enc.decrypt_file(tmp_path / "big.enc", tmp_path / "big.out")
        assert (tmp_path / "big.out").read_bytes() == source.read_bytes()

    async def test_damaged_file_leaves_no_plaintext(self, enc: Encryptor, tmp_path: Path):
        (tmp_path / "a").write_bytes(os.urandom(300_000))
        await enc.encrypt_file(tmp_path / "a", tmp_path / "a.enc", chunk_size=1024)
        damaged = bytearray((tmp_path / "a.enc").read_bytes())
        damaged[-10] ^= 1
        (tmp_path / "a.enc").write_bytes(bytes(damaged))
        with pytest.raises(DecryptionError):
            await enc.decrypt_file(tmp_path / "a.enc", tmp_path / "a.out")
        names = await asyncio.to_thread(lambda: sorted(p.name for p in tmp_path.iterdir()))
        assert names == ["a", "a.enc"]

    def test_memory_stays_bounded_for_large_streams(self, enc: Encryptor):
        """32 MiB flow through encrypt -> decrypt lazily; peak memory stays near one chunk."""
        import tracemalloc

        block = b"\xab" * (64 * 1024)
        total = 512

        def source():
            for _ in range(total):
                yield block

        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            seen = 0
            for piece in enc.decrypt_chunks(enc.encrypt_chunks(source())):
                assert piece == block
                seen += len(piece)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert seen == total * len(block)
        assert peak < 1024 * 1024  # 32 MiB streamed, under 1 MiB ever allocated at once

    async def test_async_iterables(self, enc: Encryptor):
        async def source(parts: list[bytes]):
            for part in parts:
                yield part

        data = os.urandom(10_000)
        cipher = [
            c async for c in enc.aencrypt_chunks(source([data[:3000], data[3000:]]), chunk_size=999)
        ]
        plain = [p async for p in enc.adecrypt_chunks(source(cipher))]
        assert b"".join(plain) == data

    def test_stream_with_retired_key_within_grace(
        self, enc: Encryptor, keyring: KeyRing, clock: ManualClock
    ):
        cipher = b"".join(enc.encrypt_chunks([b"old data"]))
        keyring.rotate(grace=10)
        assert b"".join(enc.decrypt_chunks([cipher])) == b"old data"
        clock.advance_sync(10)
        with pytest.raises(DecryptionError, match="unknown or expired"):
            b"".join(enc.decrypt_chunks([cipher]))


class TestSealedBoxes:
    def test_roundtrip_and_tamper(self):
        pair = BoxKeyPair.generate()
        box = seal(b"for your eyes", pair.public_key)
        assert unseal(box, pair) == b"for your eyes"
        assert unseal(seal(b"x", pair), pair) == b"x"
        broken = bytearray(box)
        broken[5] ^= 1
        with pytest.raises(DecryptionError):
            unseal(bytes(broken), pair)
        with pytest.raises(DecryptionError):
            unseal(box, BoxKeyPair.generate())

    def test_private_key_roundtrip_and_repr(self):
        pair = BoxKeyPair.generate()
        again = BoxKeyPair.from_private_bytes(pair.private_bytes())
        assert again.public_key == pair.public_key
        assert pair.private_bytes().hex() not in repr(pair)
        with pytest.raises(InvalidArgumentError):
            seal(b"x", b"short")


@attrs.frozen
class Patient:
    name: str
    ssn: str | None = encrypted()
    scan: bytes = encrypted(default=b"")
    ward: str = "A"


class TestFields:
    def test_encrypt_and_decrypt_marked_fields(self, enc: Encryptor):
        fields = FieldEncryptor(enc)
        record = Patient("ann", "123-45-6789", b"\x00img")
        stored = fields.encrypt_fields(record)
        assert stored.name == "ann" and stored.ward == "A"
        assert stored.ssn is not None and stored.ssn.startswith("enc1:")
        assert "123-45" not in repr(stored) and "123-45" not in str(stored.ssn)
        assert stored.scan != b"\x00img"
        assert fields.encrypt_fields(stored) == stored  # idempotent
        assert fields.decrypt_fields(stored) == record

    def test_plaintext_that_looks_encrypted_is_still_encrypted(self, enc: Encryptor):
        fields = FieldEncryptor(enc)
        sneaky = Patient("ann", "enc1:AAAA", b"\x01\x02plain")
        stored = fields.encrypt_fields(sneaky)
        assert stored.ssn != "enc1:AAAA" and stored.scan != sneaky.scan
        assert fields.decrypt_fields(stored) == sneaky

    def test_none_stays_none(self, enc: Encryptor):
        fields = FieldEncryptor(enc)
        record = Patient("ann", None)
        assert fields.decrypt_fields(fields.encrypt_fields(record)) == record

    def test_ciphertext_bound_to_field(self, enc: Encryptor):
        fields = FieldEncryptor(enc)
        stored = fields.encrypt_fields(Patient("ann", "123"), fields=["name", "ssn"])
        swapped = attrs.evolve(stored, name=stored.ssn, ssn=stored.name)
        with pytest.raises(DecryptionError) as info:
            fields.decrypt_fields(swapped, fields=["name", "ssn"])
        assert info.value.context["field"] == "name"

    def test_rotate_fields(self, enc: Encryptor, keyring: KeyRing):
        fields = FieldEncryptor(enc)
        stored = fields.encrypt_fields(Patient("ann", "123"))
        keyring.rotate(grace=60)
        rotated = fields.rotate_fields(stored)
        assert rotated.ssn is not None
        assert rotated.ssn != stored.ssn
        assert fields.decrypt_fields(rotated).ssn == "123"

    def test_bad_targets(self, enc: Encryptor):
        fields = FieldEncryptor(enc)
        with pytest.raises(InvalidArgumentError, match="attrs"):
            fields.encrypt_fields(object())
        with pytest.raises(InvalidArgumentError, match="no field"):
            fields.encrypt_fields(Patient("a", "b"), fields=["nope"])

        @attrs.define
        class Bad:
            n: int = encrypted(default=3)

        with pytest.raises(InvalidArgumentError, match="only str and bytes"):
            fields.encrypt_fields(Bad())
