"""Authenticated encryption with key ids: envelopes, streams, sealed boxes, fields.

Envelope layout (bytes)::

    0x01 | len(kid) (1 byte) | kid (ASCII) | nonce (24) | XChaCha20-Poly1305 ciphertext+tag

The header (version and kid) is authenticated as associated data, together
with any caller-supplied context, so moving a ciphertext to another key id
or another context makes it fail.

Stream layout (:meth:`Encryptor.encrypt_stream`)::

    b"PPS1" | chunk size (4, big endian) | len(kid) | kid | secretstream header (24)
    then frames: length (4, big endian) | secretstream ciphertext of one chunk

The last frame carries libsodium's FINAL tag; a stream that ends without it,
or has bytes after it, is refused (truncation and extension attacks).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import struct
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

import attrs
import nacl.bindings as sodium
import nacl.exceptions
import nacl.public

from pepperpy.core.exceptions import ExternalError, InvalidArgumentError, safe_repr
from pepperpy.security._checks import instance, str_tuple
from pepperpy.security._errors import DecryptionError
from pepperpy.security._keys import Key, KeyRing, KeyType, _path, file_error, private_file
from pepperpy.security._random import random_bytes
from pepperpy.security._sodium import aead_decrypt, aead_encrypt

__all__ = [
    "BoxKeyPair",
    "Encryptor",
    "FieldEncryptor",
    "StreamDecrypter",
    "StreamEncrypter",
    "encrypted",
    "seal",
    "unseal",
]

_VERSION = 1
_ENC_PURPOSE = b"pepperpy.aead.1"
_STREAM_PURPOSE = b"pepperpy.strm.1"
_NONCE = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_ABYTES = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES
_SS_HEADER = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES
_SS_ABYTES = sodium.crypto_secretstream_xchacha20poly1305_ABYTES
_TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
_STREAM_MAGIC = b"PPS1"
_DEFAULT_CHUNK = 64 * 1024
_MAX_CHUNK = 16 * 1024 * 1024
_TEXT_PREFIX = "enc1:"
_FIELD_META = "pepperpy.security.encrypted"

T = TypeVar("T")


def _as_bytes(data: Any, what: str) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise InvalidArgumentError(
        f"{what} must be bytes, not {type(data).__name__}",
        context={"type": type(data).__name__},
        hint="Encode text first (value.encode('utf-8')) or use encrypt_text().",
    )


class Encryptor:
    """Authenticated symmetric encryption with key rotation.

    Args:
        keyring: Supplies the active symmetric key for new ciphertexts and
            looks up the key named in an envelope for decryption.

    Every primitive is libsodium's: ``crypto_aead_xchacha20poly1305_ietf``
    for envelopes (random 192-bit nonces, safe for any number of messages)
    and ``crypto_secretstream_xchacha20poly1305`` for streams.
    """

    def __init__(self, keyring: KeyRing) -> None:
        self.keyring: KeyRing = instance(keyring, KeyRing, "keyring")

    def __repr__(self) -> str:
        return f"Encryptor(keyring={self.keyring!r})"

    # -- envelopes ------------------------------------------------------------

    def encrypt(self, plaintext: bytes, *, context: bytes = b"") -> bytes:
        """Encrypt *plaintext* with the active key; *context* must match on decrypt."""
        data = _as_bytes(plaintext, "plaintext")
        key = self.keyring.active(KeyType.SYMMETRIC)
        kid = key.kid.encode("ascii")
        header = bytes((_VERSION, len(kid))) + kid
        nonce = random_bytes(_NONCE)
        sealed = aead_encrypt(
            data, header + _as_bytes(context, "context"), nonce, key._derive(_ENC_PURPOSE)
        )
        return b"".join((header, nonce, sealed))

    def decrypt(self, envelope: bytes, *, context: bytes = b"") -> bytes:
        """Decrypt an envelope made by :meth:`encrypt`; raise :class:`DecryptionError`."""
        plaintext, _ = self._open(envelope, context)
        return plaintext

    def key_id(self, envelope: bytes) -> str:
        """Return the key id an envelope was encrypted with (not authenticated yet)."""
        return self._parse(envelope)[0]

    def needs_rotation(self, envelope: bytes) -> bool:
        """Whether *envelope* was made with a key other than the active one."""
        return not self.keyring.is_active(self.key_id(envelope))

    def decrypt_and_rotate(
        self, envelope: bytes, *, context: bytes = b""
    ) -> tuple[bytes, bytes | None]:
        """Decrypt; also return a re-encrypted envelope when a non-active key was used.

        Store the second value when it is not ``None`` ("re-encrypt on
        read") and the retired key can be removed once everything is rotated.
        """
        plaintext, key = self._open(envelope, context)
        if self.keyring.is_active(key.kid):
            return plaintext, None
        return plaintext, self.encrypt(plaintext, context=context)

    def rotate(self, envelope: bytes, *, context: bytes = b"") -> bytes:
        """Return *envelope* re-encrypted with the active key (unchanged if already current)."""
        _, rotated = self.decrypt_and_rotate(envelope, context=context)
        return envelope if rotated is None else rotated

    def encrypt_text(self, text: str, *, context: bytes = b"") -> str:
        """Encrypt a string into ASCII text (``"enc1:"`` + URL-safe base64)."""
        if not isinstance(text, str):
            raise InvalidArgumentError(
                f"encrypt_text() takes str, not {type(text).__name__}",
                context={"type": type(text).__name__},
            )
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidArgumentError(
                "encrypt_text() needs valid Unicode text (this holds a lone surrogate)",
                hint="Encrypt the raw bytes with encrypt() instead.",
            ) from None
        sealed = self.encrypt(data, context=context)
        return _TEXT_PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii")

    def decrypt_text(self, token: str, *, context: bytes = b"") -> str:
        """Decrypt the output of :meth:`encrypt_text`."""
        plain = self.decrypt(_text_envelope(token), context=context)
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionError(
                "The decrypted value is not UTF-8 text (it was made with encrypt(), "
                "not encrypt_text())"
            ) from None

    def _parse(self, envelope: Any) -> tuple[str, bytes, bytes, bytes]:
        if not isinstance(envelope, (bytes, bytearray, memoryview)):
            raise DecryptionError("Ciphertext must be bytes")
        data = bytes(envelope)
        if len(data) < 2 + 1 + _NONCE + _ABYTES or data[0] != _VERSION:
            raise DecryptionError("Ciphertext is truncated or not a pepperpy envelope")
        kid_len = data[1]
        head_len = 2 + kid_len
        if kid_len == 0 or len(data) < head_len + _NONCE + _ABYTES:
            raise DecryptionError("Ciphertext is truncated or not a pepperpy envelope")
        try:
            kid = data[2:head_len].decode("ascii")
        except UnicodeDecodeError:
            raise DecryptionError("Ciphertext header is damaged") from None
        return kid, data[:head_len], data[head_len : head_len + _NONCE], data[head_len + _NONCE :]

    def _open(self, envelope: Any, context: bytes) -> tuple[bytes, Key]:
        kid, header, nonce, sealed = self._parse(envelope)
        key = self.keyring._find(kid)
        if key is None or key.type is not KeyType.SYMMETRIC:
            raise DecryptionError("Ciphertext was made with an unknown or expired key", kid=kid)
        plain = aead_decrypt(
            sealed, header + _as_bytes(context, "context"), nonce, key._derive(_ENC_PURPOSE)
        )
        if plain is None:
            raise DecryptionError(
                "Ciphertext failed authentication (modified, wrong key or wrong context)",
                kid=kid,
            )
        return plain, key

    # -- streams --------------------------------------------------------------

    def stream_encrypter(self, *, chunk_size: int = _DEFAULT_CHUNK) -> StreamEncrypter:
        """Return an incremental encrypter (``update()``/``finalize()``) using the active key."""
        return StreamEncrypter(self.keyring.active(KeyType.SYMMETRIC), chunk_size)

    def stream_decrypter(self) -> StreamDecrypter:
        """Return an incremental decrypter (``update()``/``finalize()``)."""
        return StreamDecrypter(self.keyring)

    def encrypt_chunks(
        self, chunks: Iterable[bytes], *, chunk_size: int = _DEFAULT_CHUNK
    ) -> Iterator[bytes]:
        """Encrypt an iterable of byte chunks lazily; yields the stream's pieces.

        Input is re-cut into *chunk_size* pieces, so memory use is bounded by
        the chunk size whatever the input size.
        """
        encrypter = self.stream_encrypter(chunk_size=chunk_size)
        for chunk in chunks:
            yield from encrypter.update(chunk)
        yield encrypter.finalize()

    def decrypt_chunks(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Decrypt a stream made by :meth:`encrypt_chunks`, yielding plaintext chunks.

        Only authenticated chunks are yielded.  Modification, reordering,
        truncation or trailing data raise :class:`DecryptionError` (possibly
        after earlier chunks were yielded: discard partial output on error,
        as :meth:`decrypt_file` does).
        """
        decrypter = self.stream_decrypter()
        for chunk in chunks:
            yield from decrypter.update(chunk)
        decrypter.finalize()

    async def aencrypt_chunks(
        self, chunks: AsyncIterable[bytes], *, chunk_size: int = _DEFAULT_CHUNK
    ) -> AsyncIterator[bytes]:
        """Async twin of :meth:`encrypt_chunks` for async byte sources."""
        encrypter = self.stream_encrypter(chunk_size=chunk_size)
        async for chunk in chunks:
            for piece in encrypter.update(chunk):
                yield piece
        yield encrypter.finalize()

    async def adecrypt_chunks(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        """Async twin of :meth:`decrypt_chunks` for async byte sources."""
        decrypter = self.stream_decrypter()
        async for chunk in chunks:
            for piece in decrypter.update(chunk):
                yield piece
        decrypter.finalize()

    def encrypt_stream(
        self, source: IO[bytes], sink: IO[bytes], *, chunk_size: int = _DEFAULT_CHUNK
    ) -> int:
        """Encrypt file object *source* into *sink*; return bytes written.  Memory: O(chunk)."""
        _check_io(source, sink)
        written = 0
        for piece in self.encrypt_chunks(_read_file(source, chunk_size), chunk_size=chunk_size):
            _write(sink, piece)
            written += len(piece)
        return written

    def decrypt_stream(self, source: IO[bytes], sink: IO[bytes]) -> int:
        """Decrypt file object *source* into *sink*; return plaintext bytes written."""
        _check_io(source, sink)
        written = 0
        for piece in self.decrypt_chunks(_read_file(source, _DEFAULT_CHUNK)):
            _write(sink, piece)
            written += len(piece)
        return written

    async def encrypt_file(
        self,
        source: str | os.PathLike[str],
        target: str | os.PathLike[str],
        *,
        chunk_size: int = _DEFAULT_CHUNK,
    ) -> int:
        """Encrypt file *source* to *target* in a worker thread (constant memory).

        *target* is written as a new file of mode ``0600`` and renamed into place.
        """
        return await asyncio.to_thread(
            self._file_op, _path(source), _path(target), True, chunk_size
        )

    async def decrypt_file(
        self, source: str | os.PathLike[str], target: str | os.PathLike[str]
    ) -> int:
        """Decrypt file *source* to *target* in a worker thread.

        The plaintext is written to a temporary file next to *target* and
        renamed only after the whole stream authenticated, so a damaged file
        never leaves partial plaintext behind.  The plaintext file always has
        mode ``0600`` (set with ``fchmod``, whatever the umask, and also when
        *target* already existed with a wider mode).
        """
        return await asyncio.to_thread(self._file_op, _path(source), _path(target), False, 0)

    def _file_op(self, source: Path, target: Path, encrypt: bool, chunk_size: int) -> int:
        # Output (plaintext above all) goes to a new 0600 file (fchmod, whatever the umask
        # or the mode of an existing target) that replaces *target* only once complete.
        try:
            src = source.open("rb")
        except (OSError, ValueError) as exc:
            raise file_error(source, exc, "read", code="pepperpy.security.file.read") from exc
        with src, private_file(target) as dst:
            try:
                if encrypt:
                    return self.encrypt_stream(src, dst, chunk_size=chunk_size)
                return self.decrypt_stream(src, dst)
            except OSError as exc:
                raise file_error(source, exc, "read", code="pepperpy.security.file.read") from exc


class StreamEncrypter:
    """Incremental secretstream encryption; get one from :meth:`Encryptor.stream_encrypter`.

    Feed plaintext with :meth:`update` (returns ciphertext pieces ready to
    write) and end with :meth:`finalize` (returns the last piece).  Holds at
    most one chunk of plaintext.
    """

    def __init__(self, key: Key, chunk_size: int = _DEFAULT_CHUNK) -> None:
        if (
            isinstance(chunk_size, bool)
            or not isinstance(chunk_size, int)
            or not 1 <= chunk_size <= _MAX_CHUNK
        ):
            raise InvalidArgumentError(
                f"chunk_size must be an int between 1 and {_MAX_CHUNK}",
                context={"chunk_size": safe_repr(chunk_size)},
            )
        kid = key.kid.encode("ascii")
        self._chunk = chunk_size
        self._header = _STREAM_MAGIC + struct.pack(">I", chunk_size) + bytes((len(kid),)) + kid
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        ss_header = sodium.crypto_secretstream_xchacha20poly1305_init_push(
            self._state, key._derive(_STREAM_PURPOSE)
        )
        self._prologue: bytes | None = self._header + ss_header
        self._pending = bytearray()
        self._done = False

    def __repr__(self) -> str:
        return f"StreamEncrypter(chunk_size={self._chunk}, finalized={self._done})"

    def _frame(self, piece: bytes, tag: int) -> bytes:
        sealed = sodium.crypto_secretstream_xchacha20poly1305_push(
            self._state, piece, self._header, tag
        )
        return struct.pack(">I", len(sealed)) + sealed

    def _take_prologue(self) -> list[bytes]:
        if self._prologue is None:
            return []
        out, self._prologue = [self._prologue], None
        return out

    def update(self, data: bytes) -> list[bytes]:
        """Add plaintext; return the ciphertext pieces that are complete."""
        if self._done:
            raise InvalidArgumentError("This stream was already finalized")
        out = self._take_prologue()
        self._pending += _as_bytes(data, "chunk")
        size = self._chunk
        if len(self._pending) > size:
            view = memoryview(self._pending)
            start = 0
            # keep at least one byte back so the FINAL frame is never empty of meaning
            while len(self._pending) - start > size:
                out.append(self._frame(bytes(view[start : start + size]), _TAG_MESSAGE))
                start += size
            view.release()
            del self._pending[:start]
        return out

    def finalize(self) -> bytes:
        """Return the last piece (the rest of the plaintext, tagged FINAL)."""
        if self._done:
            raise InvalidArgumentError("This stream was already finalized")
        self._done = True
        head = b"".join(self._take_prologue())
        last = self._frame(bytes(self._pending), _TAG_FINAL)
        self._pending.clear()
        return head + last


class StreamDecrypter:
    """Incremental secretstream decryption; get one from :meth:`Encryptor.stream_decrypter`.

    :meth:`update` returns authenticated plaintext pieces; :meth:`finalize`
    raises :class:`DecryptionError` unless the stream ended exactly at its
    FINAL frame.
    """

    def __init__(self, keyring: KeyRing) -> None:
        self._keyring = keyring
        self._buffer = bytearray()
        self._state: Any = None
        self._header = b""
        self._kid: str | None = None
        self._limit = 0
        self._done = False
        self._failed = False

    def __repr__(self) -> str:
        return f"StreamDecrypter(kid={self._kid!r}, finished={self._done})"

    def _fail(self, message: str) -> DecryptionError:
        self._failed = True
        self._buffer.clear()
        return DecryptionError(message, kid=self._kid)

    def _start(self) -> bool:
        buf = self._buffer
        if len(buf) < 9:
            if buf[: len(_STREAM_MAGIC)] != _STREAM_MAGIC[: len(buf)]:
                raise self._fail("Not a pepperpy encrypted stream")
            return False
        if bytes(buf[:4]) != _STREAM_MAGIC:
            raise self._fail("Not a pepperpy encrypted stream")
        chunk_size = struct.unpack(">I", bytes(buf[4:8]))[0]
        kid_len = buf[8]
        need = 9 + kid_len + _SS_HEADER
        if kid_len == 0 or not 1 <= chunk_size <= _MAX_CHUNK:
            raise self._fail("Encrypted stream header is damaged")
        if len(buf) < need:
            return False
        try:
            kid = bytes(buf[9 : 9 + kid_len]).decode("ascii")
        except UnicodeDecodeError:
            raise self._fail("Encrypted stream header is damaged") from None
        self._kid = kid
        key = self._keyring._find(kid)
        if key is None or key.type is not KeyType.SYMMETRIC:
            raise self._fail("Stream was encrypted with an unknown or expired key")
        self._header = bytes(buf[: 9 + kid_len])
        state = sodium.crypto_secretstream_xchacha20poly1305_state()
        try:
            sodium.crypto_secretstream_xchacha20poly1305_init_pull(
                state, bytes(buf[9 + kid_len : need]), key._derive(_STREAM_PURPOSE)
            )
        except (nacl.exceptions.CryptoError, ValueError):
            raise self._fail("Encrypted stream header is damaged") from None
        self._state = state
        self._limit = chunk_size + _SS_ABYTES
        del buf[:need]
        return True

    def update(self, data: bytes) -> list[bytes]:
        """Add ciphertext; return the plaintext pieces that authenticated."""
        if self._failed:
            raise self._fail("Encrypted stream already failed authentication")
        if self._done:
            if data:
                raise self._fail("Encrypted stream has data after its end")
            return []
        self._buffer += _as_bytes(data, "chunk")
        if self._state is None and not self._start():
            return []
        out: list[bytes] = []
        buf = self._buffer
        while len(buf) >= 4:
            size = struct.unpack(">I", bytes(buf[:4]))[0]
            if not _SS_ABYTES <= size <= self._limit:
                raise self._fail("Encrypted stream frame is damaged")
            if len(buf) < 4 + size:
                break
            sealed = bytes(buf[4 : 4 + size])
            del buf[: 4 + size]
            try:
                plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(
                    self._state, sealed, self._header
                )
            except (nacl.exceptions.CryptoError, ValueError, RuntimeError):
                raise self._fail("Encrypted stream failed authentication") from None
            if plain:
                out.append(bytes(plain))
            if tag == _TAG_FINAL:
                if buf:
                    raise self._fail("Encrypted stream has data after its end")
                self._done = True
                self._state = None
                break
            if tag != _TAG_MESSAGE:
                raise self._fail("Encrypted stream frame is damaged")
        return out

    def finalize(self) -> None:
        """Raise :class:`DecryptionError` unless the stream was complete."""
        if self._failed:
            raise self._fail("Encrypted stream failed authentication")
        if not self._done or self._buffer:
            raise self._fail("Encrypted stream is truncated")


def _check_io(source: Any, sink: Any) -> None:
    if not callable(getattr(source, "read", None)) or not callable(getattr(sink, "write", None)):
        raise InvalidArgumentError(
            "source must have read() and sink write() (binary file objects)",
            context={"source": type(source).__name__, "sink": type(sink).__name__},
            hint="Open files with open(path, 'rb') / open(path, 'wb').",
        )


def _stream_error(what: str, exc: Exception, *, code: str) -> ExternalError:
    return ExternalError(
        f"Cannot {what} the stream: {type(exc).__name__}",
        code=code,
        context={"error": type(exc).__name__},
        hint="Pass open binary file objects (closed files and broken pipes cannot be used).",
    )


def _read_file(source: IO[bytes], size: int) -> Iterator[bytes]:
    while True:
        try:
            chunk = source.read(size)
        except (OSError, ValueError) as exc:  # closed, or a device error
            raise _stream_error("read", exc, code="pepperpy.security.stream.read") from exc
        if not chunk:
            return
        yield chunk


def _write(sink: IO[bytes], piece: bytes) -> None:
    try:
        sink.write(piece)
    except (OSError, ValueError) as exc:  # closed, full disk, broken pipe
        raise _stream_error("write", exc, code="pepperpy.security.stream.write") from exc


def _text_envelope(token: Any) -> bytes:
    if not isinstance(token, str) or not token.startswith(_TEXT_PREFIX):
        raise DecryptionError("Not an encrypted text value (expected the 'enc1:' prefix)")
    body = token[len(_TEXT_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise DecryptionError("Encrypted text value is damaged") from None
    if base64.urlsafe_b64encode(raw).decode("ascii") != body:
        raise DecryptionError("Encrypted text value is damaged")
    return raw


# -- sealed boxes -------------------------------------------------------------


@attrs.frozen(repr=False)
class BoxKeyPair:
    """An X25519 key pair for sealed boxes (anonymous public-key encryption).

    Anyone holding :attr:`public_key` can :func:`seal` data that only the
    private key can :func:`unseal`.  The private key is never shown in repr.
    """

    _private: nacl.public.PrivateKey = attrs.field(alias="private")

    @classmethod
    def generate(cls) -> BoxKeyPair:
        """Create a new random key pair."""
        return cls(private=nacl.public.PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, data: bytes) -> BoxKeyPair:
        """Rebuild a pair from the 32 bytes of :meth:`private_bytes`."""
        if not isinstance(data, bytes) or len(data) != 32:
            raise InvalidArgumentError("A box private key is 32 bytes")
        return cls(private=nacl.public.PrivateKey(data))

    @property
    def public_key(self) -> bytes:
        """The 32-byte public key to hand to senders."""
        return bytes(self._private.public_key)

    def private_bytes(self) -> bytes:
        """The 32-byte private key (store it as a secret)."""
        return bytes(self._private)

    def __repr__(self) -> str:
        return f"BoxKeyPair(public_key={base64.urlsafe_b64encode(self.public_key).decode()!r})"


def seal(data: bytes, public_key: bytes | BoxKeyPair) -> bytes:
    """Encrypt *data* for the holder of *public_key* (libsodium ``crypto_box_seal``)."""
    raw_key = public_key.public_key if isinstance(public_key, BoxKeyPair) else public_key
    if not isinstance(raw_key, bytes) or len(raw_key) != 32:
        raise InvalidArgumentError("A box public key is 32 bytes")
    return bytes(
        nacl.public.SealedBox(nacl.public.PublicKey(raw_key)).encrypt(_as_bytes(data, "data"))
    )


def unseal(data: bytes, keypair: BoxKeyPair) -> bytes:
    """Decrypt a sealed box with *keypair*; raise :class:`DecryptionError`."""
    instance(keypair, BoxKeyPair, "keypair")
    try:
        return bytes(nacl.public.SealedBox(keypair._private).decrypt(_as_bytes(data, "data")))
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise DecryptionError("Sealed box failed authentication (modified or wrong key)") from None


# -- field-level encryption ----------------------------------------------------


def encrypted(**kwargs: Any) -> Any:
    """An ``attrs.field()`` marked for :class:`FieldEncryptor` (``str`` or ``bytes`` values).

    Takes the same keyword arguments as :func:`attrs.field`; the field is
    also hidden from ``repr`` unless ``repr=`` is given.
    """
    metadata = dict(kwargs.pop("metadata", None) or {})
    metadata[_FIELD_META] = True
    kwargs.setdefault("repr", False)
    return attrs.field(metadata=metadata, **kwargs)


class FieldEncryptor:
    """Encrypt chosen fields of attrs instances before storage.

    Fields declared with :func:`encrypted` (or named in *fields*) are
    replaced by ``"enc1:..."`` text for ``str`` values and envelopes for
    ``bytes`` values; ``None`` stays ``None``.  Encrypting twice is a no-op:
    values that already decrypt for that field are left alone.  Each value is bound to its
    class and field name, so a ciphertext copied into another field or
    record type does not decrypt.

    Args:
        encryptor: The :class:`Encryptor` (and so the key ring) to use.
    """

    def __init__(self, encryptor: Encryptor) -> None:
        self.encryptor = encryptor

    def __repr__(self) -> str:
        return f"FieldEncryptor({self.encryptor!r})"

    @staticmethod
    def _fields(obj: Any, names: Iterable[str] | None) -> list[str]:
        if not attrs.has(type(obj)):
            raise InvalidArgumentError(
                f"{type(obj).__name__} is not an attrs class",
                context={"type": type(obj).__name__},
                hint="Field encryption works on attrs instances.",
            )
        declared = [f for f in attrs.fields(type(obj))]
        if names is not None:
            wanted = list(str_tuple(names, "fields"))
            known = {f.name for f in declared}
            missing = [n for n in wanted if n not in known]
            if missing:
                raise InvalidArgumentError(
                    f"{type(obj).__name__} has no field(s) {missing}",
                    context={"fields": missing},
                )
            return wanted
        return [f.name for f in declared if f.metadata.get(_FIELD_META)]

    @staticmethod
    def _context(obj: Any, name: str) -> bytes:
        return f"{type(obj).__module__}.{type(obj).__qualname__}.{name}".encode()

    def encrypt_fields(self, obj: T, *, fields: Iterable[str] | None = None) -> T:
        """Return a copy of *obj* with the chosen fields encrypted (already encrypted ones kept)."""
        changes: dict[str, Any] = {}
        for name in self._fields(obj, fields):
            value = getattr(obj, name)
            ctx = self._context(obj, name)
            if value is None or self._is_encrypted(value, ctx):
                continue
            if isinstance(value, str):
                changes[name] = self.encryptor.encrypt_text(value, context=ctx)
            elif isinstance(value, (bytes, bytearray)):
                changes[name] = self.encryptor.encrypt(bytes(value), context=ctx)
            else:
                raise InvalidArgumentError(
                    f"Field {name!r} holds {type(value).__name__}; only str and bytes can be "
                    "encrypted",
                    context={"field": name, "type": type(value).__name__},
                    hint="Serialize the value to str/bytes first.",
                )
        return attrs.evolve(obj, **changes) if changes else obj  # type: ignore[misc]

    def decrypt_fields(self, obj: T, *, fields: Iterable[str] | None = None) -> T:
        """Return a copy of *obj* with the chosen fields decrypted."""
        changes: dict[str, Any] = {}
        for name in self._fields(obj, fields):
            value = getattr(obj, name)
            if value is None:
                continue
            ctx = self._context(obj, name)
            try:
                if isinstance(value, str):
                    changes[name] = self.encryptor.decrypt_text(value, context=ctx)
                else:
                    changes[name] = self.encryptor.decrypt(value, context=ctx)
            except DecryptionError as exc:
                raise exc.with_context(field=name) from None
        return attrs.evolve(obj, **changes) if changes else obj  # type: ignore[misc]

    def rotate_fields(self, obj: T, *, fields: Iterable[str] | None = None) -> T:
        """Return *obj* with fields encrypted under a non-active key re-encrypted."""
        return self.encrypt_fields(self.decrypt_fields(obj, fields=fields), fields=fields)

    def _is_encrypted(self, value: Any, context: bytes) -> bool:
        """Whether *value* is already a ciphertext of this field (it authenticates).

        Checking by decryption, not by shape, means a plaintext that merely
        looks like a ciphertext (say, starts with ``"enc1:"``) is still
        encrypted.
        """
        try:
            if isinstance(value, str):
                if not value.startswith(_TEXT_PREFIX):
                    return False
                self.encryptor.decrypt_text(value, context=context)
            elif isinstance(value, (bytes, bytearray)):
                if not value or value[0] != _VERSION:
                    return False
                self.encryptor.decrypt(bytes(value), context=context)
            else:
                return False
        except DecryptionError:
            return False
        return True
