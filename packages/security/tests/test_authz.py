"""Tests for pepperpy.security._authz: RBAC hierarchy, attribute rules, decorator, explain."""

from __future__ import annotations

import attrs
import pytest

from pepperpy.core.exceptions import InvalidArgumentError, SecurityError
from pepperpy.security import (
    AuthorizationError,
    Policy,
    Principal,
    attribute_equals,
    has_scope,
    is_owner,
    predicate,
    same_tenant,
    use_principal,
)


@attrs.frozen
class Doc:
    owner_id: str
    tenant_id: str
    published: bool = False
    department: str = "eng"


ANN = Principal("ann", roles={"editor"}, tenant="t1", scopes={"docs:*"})
BOB = Principal("bob", roles={"viewer"}, tenant="t1", attributes={"department": "ops"})
EVE = Principal("eve", roles={"admin"}, tenant="t2")
NOBODY = Principal("anon")


@predicate
def is_published(principal: Principal, doc: Doc) -> bool:
    return doc.published


@pytest.fixture
def policy() -> Policy:
    return (
        Policy()
        .role("viewer", "doc:read")
        .role("editor", "doc:write", inherits=["viewer"])
        .role("admin", "*", inherits=["editor"])
        .allow("doc:delete", when=is_owner())
        .allow("doc:read", when=is_published)
        .deny("*", when=~same_tenant(), name="tenant isolation")
    )


class TestRBAC:
    def test_hierarchy(self, policy: Policy):
        doc = Doc("zed", "t1")
        assert policy.is_allowed(ANN, "doc:read", doc)  # inherited from viewer
        assert policy.is_allowed(ANN, "doc:write", doc)
        assert not policy.is_allowed(BOB, "doc:write", doc)
        assert policy.effective_roles(EVE) == {"admin", "editor", "viewer"}

    def test_deny_by_default(self, policy: Policy):
        decision = policy.authorize(Principal("anon", tenant="t1"), "doc:write", Doc("x", "t1"))
        assert not decision and "deny by default" in decision.reason

    def test_unknown_action_denied(self, policy: Policy):
        assert not policy.is_allowed(ANN, "billing:refund", Doc("x", "t1"))

    def test_cycles_refused(self):
        policy = Policy().role("a", inherits=["b"]).role("b", inherits=["c"])
        with pytest.raises(InvalidArgumentError, match="inherit from itself"):
            policy.role("c", inherits=["a"])
        policy.role("c", "x")  # policy still usable
        assert policy.is_allowed(Principal("p", roles={"a"}), "x")


class TestAttributeRules:
    def test_owner(self, policy: Policy):
        assert policy.is_allowed(BOB, "doc:delete", Doc("bob", "t1"))
        assert not policy.is_allowed(BOB, "doc:delete", Doc("ann", "t1"))

    def test_tenant_deny_beats_admin_wildcard(self, policy: Policy):
        decision = policy.authorize(EVE, "doc:read", Doc("x", "t1"))
        assert not decision.allowed
        assert decision.rule is not None and decision.rule.name == "tenant isolation"
        assert policy.is_allowed(EVE, "doc:anything", Doc("x", "t2"))

    def test_custom_predicate(self, policy: Policy):
        assert (
            policy.is_allowed(
                NOBODY, "doc:read", {"owner_id": "x", "tenant_id": None, "published": True}
            )
            is False
        )
        publicly = Policy().allow("doc:read", when=is_published)
        assert publicly.is_allowed(NOBODY, "doc:read", Doc("x", "t", published=True))
        assert not publicly.is_allowed(NOBODY, "doc:read", Doc("x", "t"))

    def test_combinators_and_helpers(self):
        rule = is_owner() | (
            has_scope("docs:admin") & ~attribute_equals("department", "department")
        )
        assert rule(ANN, Doc("ann", "t1"))
        assert not rule(BOB, Doc("ann", "t1"))
        assert rule(Principal("x", scopes={"docs:*"}), Doc("a", "t"))
        assert not rule(
            Principal("x", scopes={"docs:*"}, attributes={"department": "eng"}), Doc("a", "t")
        )
        assert "or" in rule.name and "not" in rule.name

    def test_mappings_as_resources(self):
        policy = Policy().allow("x", when=is_owner("owner"))
        assert policy.is_allowed(ANN, "x", {"owner": "ann"})
        assert not policy.is_allowed(ANN, "x", {})

    def test_raising_predicate_denies(self):
        @predicate
        def broken(principal: Principal, resource: object) -> bool:
            raise RuntimeError("boom")

        decision = Policy().allow("x", when=broken).authorize(ANN, "x")
        assert not decision.allowed
        assert "RuntimeError" in decision.explain()

    def test_plain_function_as_condition(self):
        policy = Policy().allow("x", when=lambda p, r: p.id == "ann")
        assert policy.is_allowed(ANN, "x") and not policy.is_allowed(BOB, "x")


class TestExplain:
    def test_explain_mentions_deciding_rule_and_trace(self, policy: Policy):
        text = policy.explain(BOB, "doc:read", Doc("ann", "t1"))
        assert text.startswith("ALLOW 'bob' -> 'doc:read': allowed by role viewer")
        assert "tenant isolation" in text
        denied = policy.explain(EVE, "doc:read", Doc("ann", "t1"))
        assert denied.startswith("DENY") and "tenant isolation" in denied

    def test_check_raises_with_decision(self, policy: Policy):
        with pytest.raises(AuthorizationError) as info:
            policy.check(BOB, "doc:write", Doc("ann", "t1"))
        assert isinstance(info.value, SecurityError)
        assert info.value.decision.action == "doc:write"
        assert info.value.context == {"action": "doc:write", "principal": "bob"}


class TestDecorator:
    async def test_async_handler_with_principal_argument(self, policy: Policy):
        @policy.requires("doc:write", resource="doc")
        async def update(principal: Principal, doc: Doc, text: str) -> str:
            return f"{principal.id} wrote {text}"

        assert await update(ANN, Doc("x", "t1"), "hi") == "ann wrote hi"
        with pytest.raises(AuthorizationError):
            await update(BOB, Doc("x", "t1"), "hi")

    def test_sync_handler_with_bound_principal_and_callable_resource(self, policy: Policy):
        calls = []

        @policy.requires("doc:delete", resource=lambda doc_id: Doc(doc_id, "t1"))
        def delete(doc_id: str) -> None:
            calls.append(doc_id)

        with use_principal(BOB):
            delete("bob")
            with pytest.raises(AuthorizationError):
                delete("ann")
        with pytest.raises(AuthorizationError, match="not allowed"):
            delete("bob")  # nobody bound: deny
        assert calls == ["bob"]

    def test_wraps_keeps_metadata(self, policy: Policy):
        @policy.requires("doc:read")
        def read(principal: Principal) -> int:
            """Docstring."""
            return 1

        assert read.__name__ == "read" and read.__doc__ == "Docstring."


POLICY_DOC = {
    "roles": {
        "viewer": {"permissions": ["doc:read"]},
        "editor": {"permissions": ["doc:write"], "inherits": ["viewer"]},
    },
    "rules": [
        {"effect": "allow", "actions": ["doc:delete"], "when": "is_owner"},
        {"effect": "allow", "actions": "doc:read", "when": "published"},
        {"effect": "deny", "actions": ["*"], "when": "not same_tenant", "name": "tenants"},
    ],
}


class TestLoading:
    def test_from_dict_matches_code_policy(self, policy: Policy):
        loaded = Policy.from_dict(POLICY_DOC, predicates={"published": is_published})
        cases = [
            (ANN, "doc:write", Doc("x", "t1")),
            (BOB, "doc:write", Doc("x", "t1")),
            (BOB, "doc:delete", Doc("bob", "t1")),
            (BOB, "doc:delete", Doc("ann", "t1")),
            (NOBODY, "doc:read", Doc("x", "t1", published=True)),
            (ANN, "doc:read", Doc("x", "t2")),
        ]
        for principal, action, doc in cases:
            expected = policy.is_allowed(principal, action, doc)
            assert loaded.is_allowed(principal, action, doc) == expected, (principal, action)

    async def test_aload_with_async_loader(self):
        async def fetch() -> dict:
            return {"roles": {"admin": {"permissions": ["*"]}}}

        loaded = await Policy.aload(fetch)
        assert loaded.is_allowed(Principal("x", roles={"admin"}), "anything")

    def test_every_problem_reported_with_path(self):
        from pepperpy.core.exceptions import ValidationError

        bad = {
            "roles": {"a": {"permissions": [1]}, "b": "nope", "c": {"inherits": ["c"]}},
            "rules": [
                {"effect": "maybe", "actions": ["x"]},
                {"actions": []},
                {"actions": ["x"], "when": "no_such_thing"},
                "junk",
            ],
        }
        with pytest.raises(ValidationError) as info:
            Policy.from_dict(bad)
        assert info.value.paths == [
            "/roles/a/permissions",
            "/roles/b",
            "/roles/c",
            "/rules/0/effect",
            "/rules/1/actions",
            "/rules/2/when",
            "/rules/3",
        ]
        with pytest.raises(ValidationError):
            Policy.from_dict([])  # type: ignore[arg-type]


def test_a_rule_without_actions_is_refused_and_not_added() -> None:
    # A rule with no action pattern would match nothing: a silent no-op allow or,
    # worse, a deny the author believes is in force.
    policy = Policy()
    with pytest.raises(InvalidArgumentError, match="at least one action"):
        policy.deny()
    assert policy.rules == ()


def test_when_must_be_a_predicate_or_a_function() -> None:
    policy = Policy()
    with pytest.raises(InvalidArgumentError, match="when= must be a Predicate or a function"):
        policy.allow("doc:read", when=42)  # type: ignore[arg-type]
    assert policy.rules == ()
