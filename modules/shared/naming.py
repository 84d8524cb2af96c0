"""The environment's names: every name the system gives AWS, qualified once per stack.

Environments can share one account (``config.toml``'s ``[environments]``): each
qualifies the names it gives AWS with ``-<qualifier>`` (production and local
keep the tutorial's). Configured names (tables, buckets, the API, ...) are
qualified by the configuration itself; the names the constructs fix (functions,
roles, queues, the alarm topic, alarms, saved queries, ...) are qualified here,
from the qualifier the stack records with ``use_qualifier``, the way
``StackIdentity.of`` finds the stack's account: no construct takes a parameter
for it, and a construct that forgets it is caught by the test that synthesizes
two environments and compares every name (tests/modules/test_environments.py).
"""

from __future__ import annotations

from constructs import Construct

from config.settings import qualify
from engine.cdk import TerraformStack

_CONTEXT_KEY = "student-management:name-qualifier"


def use_qualifier(stack: TerraformStack, qualifier: str) -> None:
    """Record the stack's qualifier (empty: the tutorial's names); call before building any construct."""
    stack.node.set_context(_CONTEXT_KEY, qualifier)


def qualified(scope: Construct, base: str, *, separator: str = "-") -> str:
    """``base`` qualified for the environment of ``scope``'s stack: ``base-<qualifier>``, or ``base`` itself."""
    return qualify(base, TerraformStack.of(scope).node.try_get_context(_CONTEXT_KEY) or "", separator)
