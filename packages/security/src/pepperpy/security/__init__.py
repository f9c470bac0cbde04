"""pepperpy.security: keys, passwords, tokens, API keys, authorization and encryption.

Every cryptographic primitive comes from libsodium through PyNaCl:
Argon2id (``crypto_pwhash``), keyed BLAKE2b and Ed25519 for tokens,
XChaCha20-Poly1305 for envelopes and secretstream for large data, X25519
sealed boxes.  Nothing here invents its own cryptography.

The headline object is :class:`Security`::

    security = Security()
    token = security.issue_token("ann", roles=["editor"])
    principal = await security.authenticate(token)

:data:`ERRORS` lists every error code the package raises, with its meaning.
"""

from pepperpy.security._apikeys import APIKey, APIKeys, APIKeyStore, InMemoryAPIKeyStore
from pepperpy.security._authz import (
    Decision,
    Effect,
    Policy,
    Predicate,
    Rule,
    attribute_equals,
    has_scope,
    is_owner,
    predicate,
    same_tenant,
)
from pepperpy.security._encryption import (
    BoxKeyPair,
    Encryptor,
    FieldEncryptor,
    StreamDecrypter,
    StreamEncrypter,
    encrypted,
    seal,
    unseal,
)
from pepperpy.security._errors import (
    ERRORS,
    AuthenticationError,
    AuthFailure,
    AuthorizationError,
    DecryptionError,
    KeyNotFoundError,
    WeakPasswordError,
)
from pepperpy.security._keys import DEFAULT_KEYRING_ENV, Key, KeyRing, KeyType
from pepperpy.security._masking import DEFAULT_SENSITIVE_KEYS, Redactor, mask, redact
from pepperpy.security._passwords import (
    BreachedHook,
    BreachedPasswords,
    HashProfile,
    PasswordCheck,
    PasswordHasher,
    PasswordPolicy,
)
from pepperpy.security._principal import Principal, current_principal, use_principal
from pepperpy.security._random import constant_time_equals, random_bytes, random_id, random_token
from pepperpy.security._security import EphemeralKeyRingWarning, Security
from pepperpy.security._tokens import (
    TOKEN_PREFIX,
    Claims,
    RevocationHook,
    RevocationList,
    TokenManager,
    VerifiedToken,
)
from pepperpy.security._version import __version__

__all__ = [
    "ERRORS",
    "APIKey",
    "APIKeyStore",
    "APIKeys",
    "AuthFailure",
    "AuthenticationError",
    "AuthorizationError",
    "BoxKeyPair",
    "BreachedHook",
    "BreachedPasswords",
    "Claims",
    "DEFAULT_KEYRING_ENV",
    "DEFAULT_SENSITIVE_KEYS",
    "Decision",
    "DecryptionError",
    "Effect",
    "Encryptor",
    "EphemeralKeyRingWarning",
    "FieldEncryptor",
    "HashProfile",
    "InMemoryAPIKeyStore",
    "Key",
    "KeyNotFoundError",
    "KeyRing",
    "KeyType",
    "PasswordCheck",
    "PasswordHasher",
    "PasswordPolicy",
    "Policy",
    "Predicate",
    "Principal",
    "Redactor",
    "RevocationHook",
    "RevocationList",
    "Rule",
    "Security",
    "StreamDecrypter",
    "StreamEncrypter",
    "TOKEN_PREFIX",
    "TokenManager",
    "VerifiedToken",
    "WeakPasswordError",
    "__version__",
    "attribute_equals",
    "constant_time_equals",
    "current_principal",
    "encrypted",
    "has_scope",
    "is_owner",
    "mask",
    "predicate",
    "random_bytes",
    "random_id",
    "random_token",
    "redact",
    "same_tenant",
    "seal",
    "unseal",
    "use_principal",
]
