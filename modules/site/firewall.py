"""Tutorial section 7 ("consider AWS WAF"): an optional web ACL in front of the site and its API.

Off by default (``site_waf``): a web ACL costs about $5/month, plus $1/month
per rule and $0.60 per million requests, more than the rest of the system at
the tutorial's scale (docs/COST.md). When on, two rules:

- AWS's managed common rule set (the OWASP top-ten patterns, Log4j's
  ``${jndi:`` among them), counted against its own capacity;
- a rate rule that blocks one address sending more than ``rate_limit``
  requests in five minutes, ahead of API Gateway's own per-key throttling, so
  a flood from one address is stopped at the edge, before it spends the
  shared key's quota for every other staff member.

CloudFront's web ACLs exist only in us-east-1 (scope ``CLOUDFRONT``); the
configuration refuses ``site_waf`` in any other region.
"""

from __future__ import annotations

from typing import Any, Final

from constructs import Construct

from engine.aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)

COMMON_RULE_SET: Final = "AWSManagedRulesCommonRuleSet"
#: The web ACL's name (``site_waf``).
FIREWALL_NAME: Final = "StudentWebsiteFirewall"


def _visibility(metric: str) -> dict[str, Any]:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


class SiteFirewall(Construct):
    """The web ACL ``StudentWebsiteFirewall``; attribute ``web_acl`` (its ``arn`` goes on the distribution)."""

    def __init__(self, scope: Construct, id_: str, *, name: str, rate_limit: int) -> None:
        super().__init__(scope, id_)
        self.web_acl = Wafv2WebAcl(
            self,
            "web-acl",
            name=name,
            description="Managed common rules and a per-address rate limit for the student website.",
            scope="CLOUDFRONT",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            visibility_config=Wafv2WebAclVisibilityConfig(**_visibility(name)),
            rule=[
                Wafv2WebAclRule(
                    name=COMMON_RULE_SET,
                    priority=1,
                    # "none": the rule group's own actions (block) apply.
                    override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
                    statement={"managed_rule_group_statement": {"name": COMMON_RULE_SET, "vendor_name": "AWS"}},
                    visibility_config=Wafv2WebAclRuleVisibilityConfig(**_visibility(COMMON_RULE_SET)),
                ),
                Wafv2WebAclRule(
                    name="RateLimitPerAddress",
                    priority=2,
                    action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                    statement={"rate_based_statement": {"limit": rate_limit, "aggregate_key_type": "IP"}},
                    visibility_config=Wafv2WebAclRuleVisibilityConfig(**_visibility("RateLimitPerAddress")),
                ),
            ],
        )
