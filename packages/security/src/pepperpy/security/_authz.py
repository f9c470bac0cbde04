"""Authorization: roles with inheritance, attribute rules, decisions that explain themselves.

Evaluation of ``authorize(principal, action, resource)``:

1. The principal's roles are expanded through the role hierarchy.
2. If any matching **deny** rule applies, the answer is *deny*.
3. Else, if any matching **allow** rule applies (role grants are allow
   rules), the answer is *allow*.
4. Else *deny* (deny by default).

A rule matches when its action pattern (``"doc:read"``, ``"doc:*"``, ``"*"``)
covers the action, the principal has one of its roles (if it names any),
and its condition predicate (if any) returns ``True``.
"""

from __future__ import annotations

import enum
import fnmatch
import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar, cast

import attrs

from pepperpy.core.exceptions import ErrorDetail, InvalidArgumentError, ValidationError
from pepperpy.security._checks import instance, str_tuple, text, type_name
from pepperpy.security._errors import AuthorizationError
from pepperpy.security._principal import Principal, current_principal

__all__ = [
    "Decision",
    "Effect",
    "Policy",
    "Predicate",
    "Rule",
    "attribute_equals",
    "has_scope",
    "is_owner",
    "predicate",
    "same_tenant",
]

R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])


def _lookup(resource: Any, name: str) -> Any:
    if isinstance(resource, Mapping):
        return resource.get(name)
    return getattr(resource, name, None)


@attrs.frozen
class Predicate(Generic[R]):
    """A named condition on ``(principal, resource)``; combine with ``&``, ``|`` and ``~``.

    Build one with the :func:`predicate` decorator or the helpers
    (:func:`is_owner`, :func:`same_tenant`, :func:`has_scope`,
    :func:`attribute_equals`).  A predicate that raises always fails
    closed: an allow rule whose condition raises does not allow, and a deny
    rule whose condition raises denies.  :meth:`Policy.explain` shows the
    error.
    """

    fn: Callable[[Principal, R], bool]
    name: str

    def __call__(self, principal: Principal, resource: R) -> bool:
        result: Any = self.fn(principal, resource)
        if inspect.isawaitable(result):
            # A coroutine is truthy: taken as a bool it would allow (or deny) whatever the
            # async condition meant.  Raising makes the rule fail closed like any error.
            if inspect.iscoroutine(result):
                result.close()
            raise InvalidArgumentError(
                f"The condition {self.name} is async; conditions must be synchronous",
                code="pepperpy.security.policy.async_condition",
                hint="Load what the condition needs before authorize(), then decide in a "
                "plain def.",
            )
        return bool(result)

    def __and__(self, other: Predicate[R]) -> Predicate[R]:
        return Predicate(lambda p, r: self(p, r) and other(p, r), f"({self.name} and {other.name})")

    def __or__(self, other: Predicate[R]) -> Predicate[R]:
        return Predicate(lambda p, r: self(p, r) or other(p, r), f"({self.name} or {other.name})")

    def __invert__(self) -> Predicate[R]:
        return Predicate(lambda p, r: not self(p, r), f"not {self.name}")

    def __repr__(self) -> str:
        return f"Predicate({self.name})"


def predicate(fn: Callable[[Principal, R], bool]) -> Predicate[R]:
    """Turn ``def rule(principal, resource) -> bool`` into a :class:`Predicate` named after it.

    Raises :class:`InvalidArgumentError` for an ``async def`` (or async generator)
    function: authorization decisions are synchronous, and a coroutine taken as a bool
    would always be true.
    """
    if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        raise InvalidArgumentError(
            f"A policy condition must be a plain function, not async ({type_name(fn)})",
            code="pepperpy.security.policy.async_condition",
            hint="Load what the condition needs before authorize(), then decide in a plain def.",
        )
    return Predicate(fn, getattr(fn, "__name__", "predicate"))


def is_owner(attribute: str = "owner_id") -> Predicate[Any]:
    """True when ``resource.<attribute>`` (or ``resource[attribute]``) equals ``principal.id``."""

    def check(principal: Principal, resource: Any) -> bool:
        owner = _lookup(resource, attribute)
        return owner is not None and owner == principal.id

    return Predicate(check, f"is_owner({attribute})")


def same_tenant(attribute: str = "tenant_id") -> Predicate[Any]:
    """True when the resource's tenant equals ``principal.tenant`` (both must be set)."""

    def check(principal: Principal, resource: Any) -> bool:
        tenant = _lookup(resource, attribute)
        return principal.tenant is not None and tenant is not None and tenant == principal.tenant

    return Predicate(check, f"same_tenant({attribute})")


def has_scope(scope: str) -> Predicate[Any]:
    """True when the principal's scopes cover *scope*."""
    return Predicate(lambda p, _r: p.has_scope(scope), f"has_scope({scope})")


def attribute_equals(resource_attribute: str, principal_attribute: str) -> Predicate[Any]:
    """True when ``resource.<resource_attribute> == principal.attributes[principal_attribute]``."""

    def check(principal: Principal, resource: Any) -> bool:
        mine = principal.attributes.get(principal_attribute)
        return mine is not None and mine == _lookup(resource, resource_attribute)

    return Predicate(check, f"{resource_attribute} == principal.{principal_attribute}")


def _known_predicates(
    predicates: Mapping[str, Predicate[Any] | Callable[[Principal, Any], bool]] | None,
) -> dict[str, Predicate[Any]]:
    """The predicates a policy document may name: the built-ins plus *predicates*."""
    known: dict[str, Predicate[Any]] = {"is_owner": is_owner(), "same_tenant": same_tenant()}
    if predicates is not None and not isinstance(predicates, Mapping):
        raise InvalidArgumentError(
            f"predicates must map names to predicates, not {type_name(predicates)}",
            context={"predicates": type_name(predicates)},
        )
    for name, value in (predicates or {}).items():
        known[name] = value if isinstance(value, Predicate) else Predicate(value, name)
    return known


def _load_role(policy: Policy, name: Any, spec: Any, problems: list[ErrorDetail]) -> None:
    """Add the role *name* of a policy document to *policy*, or note why not."""
    if not isinstance(name, str) or not name:
        problems.append(ErrorDetail("/roles", "role names must be non-empty strings", code="type"))
        return
    where = f"/roles/{name}"
    if not isinstance(spec, Mapping):
        problems.append(ErrorDetail(where, "must be a mapping", code="type"))
        return
    perms = _str_list(spec.get("permissions", []), f"{where}/permissions", problems)
    parents = _str_list(spec.get("inherits", []), f"{where}/inherits", problems)
    try:
        policy.role(name, *perms, inherits=parents)
    except InvalidArgumentError as exc:
        problems.append(ErrorDetail(where, exc.message, code="cycle"))


def _load_rule(
    spec: Any, where: str, known: Mapping[str, Predicate[Any]], problems: list[ErrorDetail]
) -> Rule | None:
    """The rule at *where* of a policy document, or ``None`` (with a problem noted)."""
    if not isinstance(spec, Mapping):
        problems.append(ErrorDetail(where, "must be a mapping", code="type"))
        return None
    try:
        effect = Effect(spec.get("effect", "allow"))
    except (TypeError, ValueError):
        problems.append(ErrorDetail(f"{where}/effect", "must be 'allow' or 'deny'", code="enum"))
        return None
    actions = _str_list(spec.get("actions", []), f"{where}/actions", problems)
    if not actions:
        problems.append(
            ErrorDetail(f"{where}/actions", "needs at least one action", code="missing")
        )
        return None
    when = None
    if spec.get("when") is not None:
        when = _resolve(spec["when"], known, f"{where}/when", problems)
        if when is None:
            return None
    rule_roles = _str_list(spec.get("roles", []), f"{where}/roles", problems)
    rule_name = spec.get("name", "")
    if not isinstance(rule_name, str):
        problems.append(ErrorDetail(f"{where}/name", "must be a string", code="type"))
        return None
    return Rule(effect, tuple(actions), frozenset(rule_roles), when, rule_name)


def _str_list(value: Any, where: str, problems: list[ErrorDetail]) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(ErrorDetail(where, "must be a list of strings", code="type"))
        return []
    return list(value)


def _resolve(
    name: Any, known: Mapping[str, Predicate[Any]], where: str, problems: list[ErrorDetail]
) -> Predicate[Any] | None:
    if not isinstance(name, str):
        problems.append(ErrorDetail(where, "must be a predicate name", code="type"))
        return None
    negate = name.startswith("not ")
    base = name[4:].strip() if negate else name.strip()
    found = known.get(base)
    if found is None:
        problems.append(
            ErrorDetail(
                where,
                f"unknown predicate {base!r}",
                code="unknown",
                expected=", ".join(sorted(known)),
            )
        )
        return None
    return ~found if negate else found


def _describe(exc: BaseException) -> str:
    """``TypeName: message`` for *exc*, even when its ``__str__`` raises."""
    try:
        message = str(exc)
    except Exception:
        message = "<message unavailable>"
    if len(message) > 200:
        message = message[:197] + "..."
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class Effect(str, enum.Enum):
    """What a matching rule does."""

    ALLOW = "allow"
    DENY = "deny"


@attrs.frozen
class Rule:
    """One allow or deny rule.

    Attributes:
        effect: :class:`Effect`.
        actions: Action patterns (``fnmatch`` style: ``"doc:*"``).
        roles: Roles the rule applies to (empty: every principal).
        when: Optional condition on principal and resource.
        name: Shown by :meth:`Policy.explain`.
    """

    effect: Effect
    actions: tuple[str, ...]
    roles: frozenset[str] = frozenset()
    when: Predicate[Any] | None = None
    name: str = ""

    def covers(self, action: str) -> bool:
        """Whether an action pattern of this rule covers *action*."""
        return any(p == action or fnmatch.fnmatchcase(action, p) for p in self.actions)

    def describe(self) -> str:
        """A one-line description of the rule."""
        who = f"roles {sorted(self.roles)}" if self.roles else "anyone"
        cond = f" when {self.when.name}" if self.when is not None else ""
        label = f"{self.name}: " if self.name else ""
        return f"{label}{self.effect.value} {list(self.actions)} for {who}{cond}"


@attrs.frozen
class Decision:
    """The answer of :meth:`Policy.authorize`, with its reasons.

    Attributes:
        allowed: The verdict; ``bool(decision)`` is the same.
        action: The action asked about.
        principal_id: Who asked.
        reason: One sentence: the rule that decided, or why nothing allowed it.
        rule: The deciding rule, if any.
        trace: One line per rule considered (what matched and what did not).
    """

    allowed: bool
    action: str
    principal_id: str
    reason: str
    rule: Rule | None = None
    trace: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.allowed

    def explain(self) -> str:
        """Return the verdict, the reason and the trace as readable text."""
        verdict = "ALLOW" if self.allowed else "DENY"
        lines = [f"{verdict} {self.principal_id!r} -> {self.action!r}: {self.reason}"]
        lines.extend(f"  - {line}" for line in self.trace)
        return "\n".join(lines)


class Policy:
    """An in-process RBAC + ABAC policy.  Deny by default.

    Example::

        policy = Policy()
        policy.role("viewer", "doc:read")
        policy.role("editor", "doc:write", inherits=["viewer"])
        policy.allow("doc:delete", when=is_owner())
        policy.deny("*", when=~same_tenant())

    Policies are built at start-up and then only read, so concurrent
    ``authorize`` calls are safe.
    """

    def __init__(self) -> None:
        self._parents: dict[str, tuple[str, ...]] = {}
        self._rules: list[Rule] = []

    def __repr__(self) -> str:
        return f"Policy(roles={sorted(self._parents)!r}, rules={len(self._rules)})"

    # -- building -------------------------------------------------------------

    def role(self, name: str, *permissions: str, inherits: Iterable[str] = ()) -> Policy:
        """Define role *name* granting *permissions* and inheriting from *inherits*.

        Calling it again for the same role adds permissions and parents.
        Cycles in the hierarchy are refused.
        """
        text(name, "role name")
        inherits = str_tuple(inherits, "inherits")
        permissions = str_tuple(permissions, "permissions")
        parents = tuple(dict.fromkeys((*self._parents.get(name, ()), *inherits)))
        previous = self._parents.get(name)
        self._parents[name] = parents
        for parent in parents:
            self._parents.setdefault(parent, ())
        if name in self._ancestors_of(parents):
            if previous is None:
                del self._parents[name]
            else:
                self._parents[name] = previous
            raise InvalidArgumentError(
                f"Role {name!r} would inherit from itself",
                context={"role": name, "inherits": list(parents)},
                hint="Role hierarchies must not contain cycles.",
            )
        if permissions:
            self._rules.append(
                Rule(Effect.ALLOW, tuple(permissions), frozenset({name}), None, f"role {name}")
            )
        return self

    def allow(
        self,
        *actions: str,
        roles: Iterable[str] = (),
        when: Predicate[Any] | None = None,
        name: str = "",
    ) -> Policy:
        """Add an allow rule for *actions* (optionally limited to *roles* and a condition)."""
        self._add(Effect.ALLOW, actions, roles, when, name)
        return self

    def deny(
        self,
        *actions: str,
        roles: Iterable[str] = (),
        when: Predicate[Any] | None = None,
        name: str = "",
    ) -> Policy:
        """Add a deny rule; a matching deny always wins over any allow."""
        self._add(Effect.DENY, actions, roles, when, name)
        return self

    def _add(
        self,
        effect: Effect,
        actions: tuple[str, ...],
        roles: Iterable[str],
        when: Predicate[Any] | None,
        name: str,
    ) -> None:
        actions = str_tuple(actions, "actions")
        if not actions:
            raise InvalidArgumentError(f"{effect.value}() needs at least one action pattern")
        if when is not None and not isinstance(when, Predicate):  # a plain function
            if not callable(when):  # type: ignore[unreachable]
                raise InvalidArgumentError(
                    f"when= must be a Predicate or a function, not {type_name(when)}"
                )
            when = predicate(cast(Callable[[Principal, Any], bool], when))
        self._rules.append(
            Rule(
                effect,
                actions,
                frozenset(str_tuple(roles, "roles")),
                when,
                text(name, "name", empty=True),
            )
        )

    def add_rule(self, rule: Rule) -> Policy:
        """Add a prepared :class:`Rule`."""
        self._rules.append(instance(rule, Rule, "rule"))
        return self

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule, in the order added."""
        return tuple(self._rules)

    def _ancestors_of(self, roles: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        stack = list(roles)
        while stack:
            role = stack.pop()
            if role in seen:
                continue
            seen.add(role)
            stack.extend(self._parents.get(role, ()))
        return seen

    def effective_roles(self, principal: Principal) -> frozenset[str]:
        """The principal's roles plus every role they inherit."""
        return frozenset(self._ancestors_of(principal.roles))

    # -- loading --------------------------------------------------------------

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        predicates: Mapping[str, Predicate[Any] | Callable[[Principal, Any], bool]] | None = None,
    ) -> Policy:
        """Build a policy from plain data (a TOML/JSON/YAML document, a database row ...).

        Shape::

            {"roles": {"viewer": {"permissions": ["doc:read"]},
                       "editor": {"permissions": ["doc:write"], "inherits": ["viewer"]}},
             "rules": [{"effect": "allow", "actions": ["doc:delete"], "when": "is_owner"},
                       {"effect": "deny", "actions": ["*"], "when": "not same_tenant",
                        "name": "tenant isolation"}]}

        ``when`` names a predicate: the built-ins ``is_owner`` and
        ``same_tenant`` or a key of *predicates*, optionally prefixed with
        ``not``.  Every problem is reported at once in a
        :class:`~pepperpy.core.exceptions.ValidationError` with its path.
        """
        known = _known_predicates(predicates)
        problems: list[ErrorDetail] = []
        policy = cls()
        if not isinstance(data, Mapping):
            raise ValidationError(
                errors=[ErrorDetail("", "a policy must be a mapping", code="type")],
                code="pepperpy.security.policy",
            )
        roles = data.get("roles", {})
        if not isinstance(roles, Mapping):
            problems.append(
                ErrorDetail("/roles", "must be a mapping of role name to role", code="type")
            )
            roles = {}
        for name, spec in roles.items():
            _load_role(policy, name, spec, problems)
        rules = data.get("rules", [])
        if not isinstance(rules, list):
            problems.append(ErrorDetail("/rules", "must be a list", code="type"))
            rules = []
        for index, spec in enumerate(rules):
            rule = _load_rule(spec, f"/rules/{index}", known, problems)
            if rule is not None:
                policy._rules.append(rule)
        if problems:
            raise ValidationError(
                f"Invalid policy: {len(problems)} problem(s)",
                errors=problems,
                code="pepperpy.security.policy",
                hint="Fix the listed paths in the policy document.",
            )
        return policy

    @classmethod
    async def aload(
        cls,
        loader: Callable[[], Mapping[str, Any] | Awaitable[Mapping[str, Any]]],
        *,
        predicates: Mapping[str, Predicate[Any] | Callable[[Principal, Any], bool]] | None = None,
    ) -> Policy:
        """Build a policy from what *loader* returns (sync or async: a file, an HTTP call ...)."""
        data = loader()
        if inspect.isawaitable(data):
            data = await data
        return cls.from_dict(data, predicates=predicates)

    # -- deciding -------------------------------------------------------------

    def authorize(self, principal: Principal, action: str, resource: Any = None) -> Decision:
        """Decide whether *principal* may perform *action* on *resource*.

        Any error while evaluating a rule's condition fails closed: the deny
        rule applies, the allow rule does not, and the trace names the error.
        """
        if not isinstance(principal, Principal):
            raise InvalidArgumentError(
                f"principal must be a Principal, not {type_name(principal)}",
                context={"principal": type_name(principal)},
                hint="Pass the Principal returned by Security.authenticate().",
            )
        text(action, "action")
        roles = self.effective_roles(principal)
        trace: list[str] = []
        allowing: Rule | None = None
        for effect in (Effect.DENY, Effect.ALLOW):
            for rule in self._rules:
                if rule.effect is not effect:
                    continue
                matched, why = self._match(rule, principal, roles, action, resource)
                if matched or rule.covers(action):
                    trace.append(f"{rule.describe()} -> {why}")
                if not matched:
                    continue
                if effect is Effect.DENY:
                    return Decision(
                        False,
                        action,
                        principal.id,
                        f"denied by {rule.describe()}",
                        rule,
                        tuple(trace),
                    )
                if allowing is None:
                    allowing = rule
        if allowing is not None:
            return Decision(
                True,
                action,
                principal.id,
                f"allowed by {allowing.describe()}",
                allowing,
                tuple(trace),
            )
        reason = (
            f"no rule allows {action!r} for roles {sorted(roles)}"
            if roles
            else f"no rule allows {action!r} for a principal without roles"
        )
        return Decision(
            False, action, principal.id, reason + " (deny by default)", None, tuple(trace)
        )

    @staticmethod
    def _match(
        rule: Rule, principal: Principal, roles: frozenset[str], action: str, resource: Any
    ) -> tuple[bool, str]:
        if not rule.covers(action):
            return False, "action not covered"
        if rule.roles and rule.roles.isdisjoint(roles):
            return False, "principal lacks the role"
        if rule.when is not None:
            try:
                ok = rule.when(principal, resource)
            except Exception as exc:
                # Fail closed: a deny whose condition cannot be evaluated denies.
                error = f"condition {rule.when.name} raised {_describe(exc)}"
                if rule.effect is Effect.DENY:
                    return True, f"{error} (a deny rule that cannot be evaluated denies)"
                return False, f"{error} (an allow rule that cannot be evaluated does not allow)"
            if not ok:
                return False, f"condition {rule.when.name} is false"
            return True, f"condition {rule.when.name} is true"
        return True, "matched"

    def is_allowed(self, principal: Principal, action: str, resource: Any = None) -> bool:
        """Shortcut for ``authorize(...).allowed``."""
        return self.authorize(principal, action, resource).allowed

    def check(self, principal: Principal, action: str, resource: Any = None) -> Decision:
        """Return the allowing :class:`Decision` or raise :class:`AuthorizationError`."""
        decision = self.authorize(principal, action, resource)
        if not decision.allowed:
            raise AuthorizationError(decision)
        return decision

    def explain(self, principal: Principal, action: str, resource: Any = None) -> str:
        """Return a readable explanation of the decision for these arguments."""
        return self.authorize(principal, action, resource).explain()

    # -- decorator ------------------------------------------------------------

    def requires(
        self,
        action: str,
        *,
        resource: str | Callable[..., Any] | None = None,
        principal: str = "principal",
    ) -> Callable[[F], F]:
        """Decorate a sync or async handler so it runs only when authorized.

        Args:
            action: The action to check.
            resource: Name of the handler argument holding the resource, or a
                callable receiving the handler's arguments and returning it.
            principal: Name of the handler argument holding the
                :class:`Principal`; when the handler has no such argument,
                the principal bound with :func:`use_principal` is used.

        Raises :class:`AuthorizationError` (before the handler runs) when
        denied or when no principal is available.
        """

        def decorate(fn: F) -> F:
            signature = inspect.signature(fn)

            def decide(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
                bound = signature.bind_partial(*args, **kwargs)
                who = bound.arguments.get(principal)
                if not isinstance(who, Principal):
                    who = current_principal()
                if who is None:
                    decision = Decision(
                        False, action, "<anonymous>", "no authenticated principal (deny by default)"
                    )
                    raise AuthorizationError(decision)
                if resource is None:
                    target = None
                elif isinstance(resource, str):
                    target = bound.arguments.get(resource)
                else:
                    target = resource(*args, **kwargs)
                self.check(who, action, target)

            if inspect.iscoroutinefunction(fn):

                @functools.wraps(fn)
                async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                    decide(args, kwargs)
                    return await cast(Callable[..., Awaitable[Any]], fn)(*args, **kwargs)

                return cast(F, async_wrapper)

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                decide(args, kwargs)
                return fn(*args, **kwargs)

            return cast(F, wrapper)

        return decorate
