#!/usr/bin/env python3
"""Writes the conformance case files of this directory.

The expectations below are written by hand from the AWS IAM User Guide pages
named in each case (never from running the evaluator). Run
`python3 generate.py` after editing; commit the generated JSON files.
"""
import json, os, sys

ACCT = "111122223333"
OTHER = "444455556666"
ALICE = f"arn:aws:iam::{ACCT}:user/alice"
BOB = f"arn:aws:iam::{ACCT}:user/bob"
ROOT = f"arn:aws:iam::{ACCT}:root"
ROLE = f"arn:aws:iam::{ACCT}:role/R"
SESSION = f"arn:aws:sts::{ACCT}:assumed-role/R/s1"
FED = f"arn:aws:sts::{ACCT}:federated-user/fred"
XUSER = f"arn:aws:iam::{OTHER}:user/carlos"
OBJ = "arn:aws:s3:::bucket/key"
MISSING = object()

OPS = "reference_policies_elements_condition_operators.md"
MULTI = "reference_policies_multi-value-conditions.md"
SINGLE = "reference_policies_single-vs-multi-valued-condition-keys.md"
VARS = "reference_policies_variables.md"
EVAL = "reference_policies_evaluation-logic.md"
XACCT = "reference_policies_evaluation-logic-cross-account.md"
BOUND = "access_policies_boundaries.md"
GRAMMAR = "reference_policies_grammar.md"
ACTION = "reference_policies_elements_action.md"
NOTACTION = "reference_policies_elements_notaction.md"
RESOURCE = "reference_policies_elements_resource.md"
NOTRESOURCE = "reference_policies_elements_notresource.md"
PRINCIPAL = "reference_policies_elements_principal.md"
NOTPRINCIPAL = "reference_policies_elements_notprincipal.md"
COND = "reference_policies_elements_condition.md"
KEYS = "reference_policies_condition-keys.md"
DECISION = "docs/policy-semantics.md (decision)"


def st(effect="Allow", action="s3:GetObject", resource="*", cond=None, sid=None,
       principal=None, notaction=None, notresource=None, notprincipal=None, no_resource=False):
    s = {}
    if sid:
        s["Sid"] = sid
    s["Effect"] = effect
    if principal is not None:
        s["Principal"] = principal
    if notprincipal is not None:
        s["NotPrincipal"] = notprincipal
    if notaction is not None:
        s["NotAction"] = notaction
    else:
        s["Action"] = action
    if notresource is not None:
        s["NotResource"] = notresource
    elif not no_resource:
        s["Resource"] = resource
    if cond is not None:
        s["Condition"] = cond
    return s


def pol(*stmts, version="2012-10-17"):
    p = {}
    if version:
        p["Version"] = version
    p["Statement"] = list(stmts)
    return p


def req(principal=ALICE, action="s3:GetObject", resource=OBJ, context=None, resource_account=None):
    r = {"action": action, "resource": resource}
    if principal is not None:
        r["principal"] = principal
    if resource_account:
        r["resource_account"] = resource_account
    if context:
        r["context"] = context
    return r


def sc(request=None, identity=(), resource=None, boundary=None, session=None, scps=None, rcps=None):
    s = {"request": request or req(), "identity_policies": list(identity)}
    if resource is not None:
        s["resource_policy"] = resource
    if boundary is not None:
        s["permissions_boundary"] = boundary
    if session is not None:
        s["session_policy"] = session
    if scps is not None:
        s["service_control_policies"] = scps
    if rcps is not None:
        s["resource_control_policies"] = rcps
    return s


FILES = {}


def single_statement(scenario):
    """Whether the scenario's only policy is one identity policy with one
    statement: then that statement decides an Allow or an ExplicitDeny, and
    an ImplicitDeny means it did not apply at all."""
    others = ("resource_policy", "permissions_boundary", "session_policy",
              "service_control_policies", "resource_control_policies")
    if any(k in scenario for k in others) or len(scenario["identity_policies"]) != 1:
        return False
    policy = scenario["identity_policies"][0]
    if not isinstance(policy, dict):
        return False
    stmts = policy.get("Statement")
    return isinstance(stmts, dict) or (isinstance(stmts, list) and len(stmts) == 1)


def add(file, name, source, passage, scenario, expected, matched=None, now=None):
    if matched is None and single_statement(scenario):
        matched = {"Allow": [["identity_policies[0]", 0]],
                   "ExplicitDeny": [["identity_policies[0]", 0]],
                   "ImplicitDeny": []}.get(expected)
    c = {"name": name, "source": source, "passage": passage, "scenario": scenario, "expected": expected}
    if matched is not None:
        c["matched"] = matched
    if now:
        c["now"] = now
    FILES.setdefault(file, []).append(c)


ALLOW_ALL = pol(st(action="*", resource="*"))

# ---------------------------------------------------------------- operators
def cond_case(file, source, passage, op, key, values, ctx, truth, name=None, deny_form=False):
    """An Allow statement with one condition; `truth` says whether it holds."""
    context = None if ctx is MISSING else {key: ctx}
    cond = {op: {key: values}}
    n = name or f"{op} {key}={json.dumps(values)} vs {'missing' if ctx is MISSING else json.dumps(ctx)}"
    if deny_form:
        scen = sc(req(context=context), identity=[ALLOW_ALL, pol(st("Deny", cond=cond))])
        add(file, n + " (deny form)", source, passage, scen, "ExplicitDeny" if truth else "Allow")
    else:
        scen = sc(req(context=context), identity=[pol(st(cond=cond))])
        add(file, n, source, passage, scen, "Allow" if truth else "ImplicitDeny")


F = "operators.json"
P_STR = "String condition operators: StringEquals exact matching, case sensitive; StringNotEquals negated; IgnoreCase variants; StringLike/StringNotLike with * and ? wildcards"
P_MISSING = "If the key that you specify in a policy condition is not present in the request context, the values do not match and the condition is false. If the policy condition requires that the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the condition is true."
P_NOR = "When multiple values are listed in a policy for negated matching condition operators such as StringNotEquals and DateNotEquals, the effective permissions work like a logical AND."
P_OR = "If a single condition operator includes multiple values for one key, that condition operator is evaluated using a logical OR."
K = "aws:PrincipalTag/team"
for op, vals, ctx, truth in [
    ("StringEquals", "eng", "eng", True),
    ("StringEquals", "eng", "Eng", False),
    ("StringEquals", ["ops", "eng"], "eng", True),
    ("StringEquals", ["ops", "dev"], "eng", False),
    ("StringEquals", "eng", MISSING, False),
    ("StringEquals", "e*", "eng", False),
    ("StringEquals", "e*", "e*", True),
    ("StringEquals", 5, "5", True),
    ("StringEquals", True, "true", True),
    ("StringEquals", "eng", "", False),
    ("StringNotEquals", "eng", "ops", True),
    ("StringNotEquals", "eng", "eng", False),
    ("StringNotEquals", ["eng", "ops"], "ops", False),
    ("StringNotEquals", ["eng", "ops"], "dev", True),
    ("StringNotEquals", "eng", MISSING, True),
    ("StringNotEquals", "eng", "ENG", True),
    ("StringEqualsIgnoreCase", "ENG", "eng", True),
    ("StringEqualsIgnoreCase", "eng", "ops", False),
    ("StringEqualsIgnoreCase", "eng", MISSING, False),
    ("StringEqualsIgnoreCase", ["a", "ENG"], "Eng", True),
    ("StringEqualsIgnoreCase", "e*", "eng", False),
    ("StringNotEqualsIgnoreCase", "ENG", "eng", False),
    ("StringNotEqualsIgnoreCase", "eng", "ops", True),
    ("StringNotEqualsIgnoreCase", "eng", MISSING, True),
    ("StringNotEqualsIgnoreCase", ["A", "B"], "b", False),
    ("StringLike", "e*", "eng", True),
    ("StringLike", "e?g", "eng", True),
    ("StringLike", "e?g", "eeng", False),
    ("StringLike", "*", "", True),
    ("StringLike", "E*", "eng", False),
    ("StringLike", "e*", MISSING, False),
    ("StringLike", ["x*", "e*"], "eng", True),
    ("StringLike", "home/*", "home/a/b", True),
    ("StringLike", "*g", "eng", True),
    ("StringLike", "eng", "eng", True),
    ("StringLike", "en", "eng", False),
    ("StringNotLike", "e*", "eng", False),
    ("StringNotLike", "x*", "eng", True),
    ("StringNotLike", "e*", MISSING, True),
    ("StringNotLike", ["x*", "e*"], "eng", False),
    ("StringNotLike", ["x*", "y*"], "eng", True),
]:
    passage = P_MISSING if ctx is MISSING else (P_NOR if "Not" in op and isinstance(vals, list) else (P_OR if isinstance(vals, list) else P_STR))
    cond_case(F, OPS + "#Conditions_String", passage, op, K, vals, ctx, truth)

P_NUM = "Numeric condition operators let you construct Condition elements that restrict access based on comparing a key to an integer or decimal value."
for op, vals, ctx, truth in [
    ("NumericEquals", 10, "10", True),
    ("NumericEquals", "10", "10.0", True),
    ("NumericEquals", 10, "11", False),
    ("NumericEquals", 10, MISSING, False),
    ("NumericEquals", [1, 2], "2", True),
    ("NumericEquals", 10, "ten", False),
    ("NumericNotEquals", 10, "10", False),
    ("NumericNotEquals", 10, "11", True),
    ("NumericNotEquals", 10, MISSING, True),
    ("NumericNotEquals", [1, 2], "2", False),
    ("NumericNotEquals", [1, 2], "3", True),
    ("NumericLessThan", 10, "9", True),
    ("NumericLessThan", 10, "10", False),
    ("NumericLessThan", 10, "-1", True),
    ("NumericLessThan", 10, "9.5", True),
    ("NumericLessThan", 10, MISSING, False),
    ("NumericLessThan", [5, 20], "10", True),
    ("NumericLessThanEquals", 10, "10", True),
    ("NumericLessThanEquals", 10, "11", False),
    ("NumericLessThanEquals", 10, MISSING, False),
    ("NumericGreaterThan", 10, "11", True),
    ("NumericGreaterThan", 10, "10", False),
    ("NumericGreaterThan", 10, MISSING, False),
    ("NumericGreaterThanEquals", 10, "10", True),
    ("NumericGreaterThanEquals", 10, "9", False),
    ("NumericGreaterThanEquals", 2.5, "3", True),
]:
    cond_case(F, OPS + "#Conditions_Numeric", P_MISSING if ctx is MISSING else P_NUM, op, "s3:max-keys", vals, ctx, truth)

P_DATE = "You must specify date/time values with one of the W3C implementations of the ISO 8601 date formats or in epoch (UNIX) time."
T0 = "2020-01-01T00:00:00Z"
for op, vals, ctx, truth in [
    ("DateEquals", T0, T0, True),
    ("DateEquals", T0, "1577836800", True),
    ("DateEquals", "1577836800", T0, True),
    ("DateEquals", "2020-01-01", T0, True),
    ("DateEquals", T0, "2020-01-01T01:00:00+01:00", True),
    ("DateEquals", T0, "2020-01-01T00:00:01Z", False),
    ("DateEquals", T0, MISSING, False),
    ("DateNotEquals", T0, T0, False),
    ("DateNotEquals", T0, "2021-01-01T00:00:00Z", True),
    ("DateNotEquals", T0, MISSING, True),
    ("DateLessThan", T0, "2019-12-31T23:59:59Z", True),
    ("DateLessThan", T0, T0, False),
    ("DateLessThan", T0, MISSING, False),
    ("DateLessThanEquals", T0, T0, True),
    ("DateLessThanEquals", T0, "2020-01-01T00:00:01Z", False),
    ("DateGreaterThan", T0, "2020-06-01T00:00:00Z", True),
    ("DateGreaterThan", T0, T0, False),
    ("DateGreaterThan", "1577836800", "2020-06-01T00:00:00Z", True),
    ("DateGreaterThan", T0, MISSING, False),
    ("DateGreaterThanEquals", T0, T0, True),
    ("DateGreaterThanEquals", T0, "2019-01-01T00:00:00Z", False),
    ("DateGreaterThanEquals", T0, "2020-01-01T00:00:00.500Z", True),
]:
    cond_case(F, OPS + "#Conditions_Date", P_MISSING if ctx is MISSING else P_DATE, op, "aws:TokenIssueTime", vals, ctx, truth)

P_BOOL = "Boolean conditions let you construct Condition elements that restrict access based on comparing a key to \"true\" or \"false.\""
for op, vals, ctx, truth in [
    ("Bool", "true", "true", True),
    ("Bool", "true", "false", False),
    ("Bool", "true", MISSING, False),
    ("Bool", True, "true", True),
    ("Bool", "false", "false", True),
    ("Bool", "true", "TRUE", True),
    ("Bool", ["true", "false"], "false", True),
]:
    cond_case(F, OPS + "#Conditions_Boolean", P_MISSING if ctx is MISSING else P_BOOL, op, "aws:SecureTransport", vals, ctx, truth)
add(F, "Bool deny when SecureTransport false", OPS + "#Conditions_Boolean",
    "this identity-based policy uses the Bool condition operator with the aws:SecureTransport key to deny all S3 actions on a bucket and its contents if the request is not over SSL",
    sc(req(context={"aws:SecureTransport": "false"}), identity=[ALLOW_ALL, pol(st("Deny", "s3:*", cond={"Bool": {"aws:SecureTransport": "false"}}))]), "ExplicitDeny")
add(F, "Bool deny not triggered over SSL", OPS + "#Conditions_Boolean",
    "this identity-based policy uses the Bool condition operator with the aws:SecureTransport key to deny all S3 actions on a bucket and its contents if the request is not over SSL",
    sc(req(context={"aws:SecureTransport": "true"}), identity=[ALLOW_ALL, pol(st("Deny", "s3:*", cond={"Bool": {"aws:SecureTransport": "false"}}))]), "Allow")

P_BIN = "It compares the value of the specified key byte for byte against a base-64 encoded representation of the binary value in the policy."
for op, vals, ctx, truth in [
    ("BinaryEquals", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", True),
    ("BinaryEquals", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", "QmluYXJ5", False),
    ("BinaryEquals", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", MISSING, False),
    ("BinaryEquals", ["QQ==", "Qg=="], "Qg==", True),
]:
    cond_case(F, OPS + "#Conditions_BinaryEquals", P_MISSING if ctx is MISSING else P_BIN, op, "key", vals, ctx, truth)

P_IP = "The value must be in the standard CIDR format (for example, 203.0.113.0/24 or 2001:DB8:1234:5678::/64). If you specify an IP address without the associated routing prefix, IAM uses the default prefix value of /32."
for op, vals, ctx, truth in [
    ("IpAddress", "203.0.113.0/24", "203.0.113.7", True),
    ("IpAddress", "203.0.113.0/24", "203.0.114.7", False),
    ("IpAddress", "203.0.113.7", "203.0.113.7", True),
    ("IpAddress", "203.0.113.7", "203.0.113.8", False),
    ("IpAddress", "2001:DB8:1234:5678::/64", "2001:db8:1234:5678::1", True),
    ("IpAddress", "2001:DB8:1234:5678::/64", "2001:db8:1234:5679::1", False),
    ("IpAddress", "203.0.113.0/24", "2001:db8::1", False),
    ("IpAddress", ["203.0.113.0/24", "2001:DB8:1234:5678::/64"], "2001:db8:1234:5678::abcd", True),
    ("IpAddress", ["203.0.113.0/24", "2001:DB8:1234:5678::/64"], "203.0.113.200", True),
    ("IpAddress", "203.0.113.0/24", MISSING, False),
    ("IpAddress", "0.0.0.0/0", "198.51.100.1", True),
    ("IpAddress", "203.0.113.0/24", "not-an-ip", False),
    ("IpAddress", "10.0.0.0/8", "10.255.255.255", True),
    ("NotIpAddress", "203.0.113.0/24", "203.0.113.7", False),
    ("NotIpAddress", "203.0.113.0/24", "198.51.100.1", True),
    ("NotIpAddress", "203.0.113.0/24", MISSING, True),
    ("NotIpAddress", ["10.0.0.0/8", "192.168.0.0/16"], "192.168.1.1", False),
    ("NotIpAddress", ["10.0.0.0/8", "192.168.0.0/16"], "172.16.0.1", True),
]:
    cond_case(F, OPS + "#Conditions_IPAddress", P_MISSING if ctx is MISSING else P_IP, op, "aws:SourceIp", vals, ctx, truth)

P_ARN = "Case-sensitive matching of the ARN. Each of the six colon-delimited components of the ARN is checked separately and each can include multi-character match wildcards (*) or single-character match wildcards (?). The ArnEquals and ArnLike condition operators behave identically."
TOPIC = f"arn:aws:sns:us-east-1:{ACCT}:topic"
for op, vals, ctx, truth in [
    ("ArnEquals", TOPIC, TOPIC, True),
    ("ArnEquals", TOPIC, f"arn:aws:sns:us-east-1:{OTHER}:topic", False),
    ("ArnEquals", f"arn:aws:sns:*:{ACCT}:*", TOPIC, True),
    ("ArnLike", f"arn:aws:sns:*:{ACCT}:*", "arn:aws:sns:us-east-2:111122223333:other", True),
    ("ArnLike", f"arn:aws:sns:*:{ACCT}:*", f"arn:aws:sqs:us-east-2:{ACCT}:q", False),
    ("ArnLike", f"arn:aws:sns:us-east-1:{ACCT}:Topic", TOPIC, False),
    ("ArnLike", TOPIC, MISSING, False),
    ("ArnLike", "arn:aws:sns:*:*:t?pic", TOPIC, True),
    ("ArnLike", "arn:aws:sns:*:*:topic:sub*", "arn:aws:sns:us-east-1:1:topic:sub1", True),
    ("ArnLike", "arn:aws:sns:*:*:*", "not-an-arn", False),
    ("ArnLike", [f"arn:aws:sqs:*:{ACCT}:*", f"arn:aws:sns:*:{ACCT}:*"], TOPIC, True),
    ("ArnNotEquals", TOPIC, TOPIC, False),
    ("ArnNotEquals", TOPIC, f"arn:aws:sns:us-east-1:{OTHER}:topic", True),
    ("ArnNotEquals", TOPIC, MISSING, True),
    ("ArnNotLike", f"arn:aws:sns:*:{ACCT}:*", TOPIC, False),
    ("ArnNotLike", f"arn:aws:sns:*:{OTHER}:*", TOPIC, True),
    ("ArnNotLike", f"arn:aws:sns:*:{OTHER}:*", MISSING, True),
]:
    cond_case(F, OPS + "#Conditions_ARN", P_MISSING if ctx is MISSING else P_ARN, op, "aws:SourceArn", vals, ctx, truth)
P_ARN_EX = "With a StringLike condition, the match succeeds. The first asterisk matches us-east-2:999999999999:store/abc:. With an ArnLike condition, which matches elements between colons, the match fails."
EXV = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
cond_case(F, OPS + "#Conditions_ARN", P_ARN_EX, "ArnLike", "aws:SourceArn", "arn:aws:someservice:*:111122223333:finance/*", EXV, False, name="ArnLike component-wise example fails")
cond_case(F, OPS + "#Conditions_ARN", P_ARN_EX, "StringLike", "aws:SourceArn", "arn:aws:someservice:*:111122223333:finance/*", EXV, True, name="StringLike same example succeeds")

P_NULL = "Use a Null condition operator to check if a condition key is absent at the time of authorization. In the policy statement, use either true (the key doesn't exist — it is null) or false (the key exists and its value is not null)."
for vals, ctx, truth in [
    ("true", MISSING, True),
    ("true", "2020-01-01T00:00:00Z", False),
    ("false", "2020-01-01T00:00:00Z", True),
    ("false", MISSING, False),
    (True, MISSING, True),
    (False, "x", True),
    ("true", [], True),
]:
    cond_case(F, OPS + "#Conditions_Null", P_NULL, "Null", "aws:TokenIssueTime", vals, ctx, truth)

# deny-form variants of a few operators: the same truth drives a Deny
for op, key, vals, ctx, truth in [
    ("StringEquals", K, "eng", "eng", True),
    ("StringNotEquals", K, "eng", MISSING, True),
    ("StringLike", K, "e*", MISSING, False),
    ("NumericLessThan", "s3:max-keys", 10, "100", False),
    ("DateGreaterThan", "aws:TokenIssueTime", T0, "2021-01-01T00:00:00Z", True),
    ("IpAddress", "aws:SourceIp", "10.0.0.0/8", "10.1.2.3", True),
    ("NotIpAddress", "aws:SourceIp", "10.0.0.0/8", "10.1.2.3", False),
    ("ArnLike", "aws:SourceArn", "arn:aws:sns:*:*:*", TOPIC, True),
    ("Null", "aws:TokenIssueTime", "true", MISSING, True),
]:
    cond_case(F, OPS, "An explicit deny in any policy overrides any allows; the condition decides whether the Deny statement applies.", op, key, vals, ctx, truth, deny_form=True)

# ------------------------------------------------------------- IfExists etc
F = "conditions.json"
P_IFX = "If the policy key is present in the context of the request, process the key as specified in the policy. If the key is not present, evaluate the condition element as true."
for op, key, vals, ctx, truth in [
    ("StringEqualsIfExists", K, "eng", MISSING, True),
    ("StringEqualsIfExists", K, "eng", "eng", True),
    ("StringEqualsIfExists", K, "eng", "ops", False),
    ("StringNotEqualsIfExists", K, "eng", MISSING, True),
    ("StringNotEqualsIfExists", K, "eng", "eng", False),
    ("StringLikeIfExists", "ec2:InstanceType", ["t1.*", "t2.*", "m3.*"], "t2.micro", True),
    ("StringLikeIfExists", "ec2:InstanceType", ["t1.*", "t2.*", "m3.*"], "c5.large", False),
    ("StringLikeIfExists", "ec2:InstanceType", ["t1.*", "t2.*", "m3.*"], MISSING, True),
    ("NumericLessThanIfExists", "s3:max-keys", 10, MISSING, True),
    ("NumericLessThanIfExists", "s3:max-keys", 10, "20", False),
    ("DateLessThanIfExists", "aws:TokenIssueTime", T0, MISSING, True),
    ("DateLessThanIfExists", "aws:TokenIssueTime", T0, "2021-01-01T00:00:00Z", False),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", "true", MISSING, True),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", "true", "false", False),
    ("IpAddressIfExists", "aws:SourceIp", "10.0.0.0/8", MISSING, True),
    ("IpAddressIfExists", "aws:SourceIp", "10.0.0.0/8", "11.0.0.1", False),
    ("NotIpAddressIfExists", "aws:SourceIp", "10.0.0.0/8", MISSING, True),
    ("ArnLikeIfExists", "aws:SourceArn", "arn:aws:sns:*:*:*", MISSING, True),
    ("ArnNotLikeIfExists", "aws:SourceArn", "arn:aws:sns:*:*:*", TOPIC, False),
    ("BinaryEqualsIfExists", "key", "QQ==", MISSING, True),
    ("NumericEqualsIfExists", "s3:max-keys", 10, "10", True),
    ("DateGreaterThanIfExists", "aws:TokenIssueTime", T0, "2021-01-01T00:00:00Z", True),
    ("ForAnyValue:StringEqualsIfExists", "aws:TagKeys", ["a"], MISSING, True),
    ("ForAnyValue:StringEqualsIfExists", "aws:TagKeys", ["a"], ["b"], False),
]:
    cond_case(F, OPS + "#Conditions_IfExists", P_IFX, op, key, vals, ctx, truth)
add(F, "Deny StringNotEqualsIfExists with missing tag still denies", OPS + "#Conditions_IfExists",
    "If you are using an \"Effect\": \"Deny\" element with a negated condition operator like StringNotEqualsIfExists, the request is still denied even if the tag is missing.",
    sc(identity=[ALLOW_ALL, pol(st("Deny", "s3:*", cond={"StringNotEqualsIfExists": {"aws:ResourceTag/team": "eng"}}))]), "ExplicitDeny")

P_AND = "If your policy has multiple condition operators or multiple keys attached to a single condition operator, the conditions are evaluated using a logical AND."
AND_COND = {"StringEqualsIgnoreCase": {"aws:PrincipalTag/department": ["finance", "hr", "legal"], "aws:PrincipalTag/role": ["audit", "security"]},
            "StringEquals": {"aws:PrincipalAccount": ACCT}}
for ctx, expected, n in [
    ({"aws:PrincipalTag/department": "HR", "aws:PrincipalTag/role": "audit"}, "Allow", "all keys match"),
    ({"aws:PrincipalTag/department": "hr"}, "ImplicitDeny", "one key missing"),
    ({"aws:PrincipalTag/department": "sales", "aws:PrincipalTag/role": "audit"}, "ImplicitDeny", "one key mismatched"),
    ({"aws:PrincipalTag/department": "legal", "aws:PrincipalTag/role": "security", "aws:PrincipalAccount": OTHER}, "ImplicitDeny", "second operator fails"),
]:
    add(F, f"AND across keys and operators: {n}", MULTI + "#reference_policies_multiple-conditions-eval", P_AND,
        sc(req(context=ctx), identity=[pol(st(cond=AND_COND))]), expected)
add(F, "NOR for StringNotEquals on PrincipalAccount", MULTI, P_NOR,
    sc(identity=[pol(st(cond={"StringNotEquals": {"aws:PrincipalAccount": [OTHER, "999999999999"]}}))]), "Allow")
add(F, "NOR for StringNotEquals fails when one equals", MULTI, P_NOR,
    sc(identity=[pol(st(cond={"StringNotEquals": {"aws:PrincipalAccount": [OTHER, ACCT]}}))]), "ImplicitDeny")
add(F, "empty Condition block has no effect", COND, "The Condition element is optional.",
    sc(identity=[pol(st(cond={}))]), "Allow")

# set operators
P_ALL = "ForAllValues – ... The condition returns true if every key value in the request matches at least one value in the policy. It also returns true if there are no keys in the request, or if the key values resolve to a null data set, such as an empty string."
P_ANY = "ForAnyValue – ... The condition returns true if any one of the key values in the request matches any one of the condition values in the policy. For no matching key or a null dataset, the condition returns false."
ATTR = "dynamodb:Attributes"
for op, vals, ctx, truth, passage in [
    ("ForAllValues:StringEquals", ["ID", "Message", "Tags"], ["Message", "Tags"], True, P_ALL),
    ("ForAllValues:StringEquals", ["PostDateTime", "Message", "Tags"], ["PostDateTime", "UserName"], False, P_ALL),
    ("ForAllValues:StringEquals", ["ID", "Message", "Tags"], MISSING, True, P_ALL),
    ("ForAllValues:StringEquals", ["ID", "Message", "Tags"], [], True, P_ALL),
    ("ForAllValues:StringEquals", ["ID", "Message", "Tags"], "ID", True, P_ALL),
    ("ForAllValues:StringEquals", ["ID", "Message", "Tags"], ["id"], False, P_ALL),
    ("ForAllValues:StringEquals", ["ID", "Message", "Tags"], ["ID", "Message", "Tags"], True, P_ALL),
    ("ForAnyValue:StringEquals", ["ID", "PostDateTime"], ["PostDateTime", "Message"], True, P_ANY),
    ("ForAnyValue:StringEquals", ["ID", "PostDateTime"], ["UserName"], False, P_ANY),
    ("ForAnyValue:StringEquals", ["ID", "PostDateTime"], MISSING, False, P_ANY),
    ("ForAnyValue:StringEquals", ["ID", "PostDateTime"], [], False, P_ANY),
    ("ForAnyValue:StringEquals", ["ID", "PostDateTime"], "ID", True, P_ANY),
    ("ForAllValues:StringLike", ["key1*"], ["key1a", "key1b"], True, P_ALL),
    ("ForAllValues:StringLike", ["key1*"], ["key1a", "key2"], False, P_ALL),
    ("ForAnyValue:StringLike", ["team*"], ["cost", "team-a"], True, P_ANY),
    ("ForAnyValue:StringLike", ["team*"], ["cost", "owner"], False, P_ANY),
    ("ForAllValues:StringNotEquals", ["a", "b"], ["c", "d"], True, P_ALL),
    ("ForAllValues:StringNotEquals", ["a", "b"], ["a", "c"], False, P_ALL),
    ("ForAnyValue:StringNotEquals", ["a", "b"], ["a", "c"], True, P_ANY),
    ("ForAnyValue:StringNotEquals", ["a", "b"], ["a", "b"], False, P_ANY),
    ("ForAnyValue:StringNotEquals", ["a", "b"], MISSING, False, P_ANY),
    ("ForAllValues:StringEqualsIgnoreCase", ["ID"], ["id", "Id"], True, P_ALL),
    ("ForAnyValue:NumericLessThan", 5, ["10", "3"], True, P_ANY),
    ("ForAllValues:NumericLessThan", 5, ["10", "3"], False, P_ALL),
    ("ForAnyValue:IpAddress", "10.0.0.0/8", ["192.168.0.1", "10.1.1.1"], True, P_ANY),
    ("ForAllValues:IpAddress", "10.0.0.0/8", ["192.168.0.1", "10.1.1.1"], False, P_ALL),
    ("ForAnyValue:StringNotLike", ["x*"], ["xa", "yb"], True, P_ANY),
    ("ForAllValues:StringNotLike", ["x*"], ["xa", "yb"], False, P_ALL),
    ("ForAllValues:ArnLike", f"arn:aws:sns:*:{ACCT}:*", [TOPIC, f"arn:aws:sns:eu-west-1:{ACCT}:t2"], True, P_ALL),
    ("ForAnyValue:DateGreaterThan", T0, ["2019-01-01T00:00:00Z", "2021-01-01T00:00:00Z"], True, P_ANY),
    ("ForAllValues:Bool", "true", ["true", "true"], True, P_ALL),
]:
    cond_case(F, MULTI + "#reference_policies_multi-key-or-value-conditions", passage, op, ATTR, vals, ctx, truth)
DENY_ANY = pol(st("Deny", "dynamodb:PutItem", "arn:aws:dynamodb:*:*:table/Thread", cond={"ForAnyValue:StringEquals": {ATTR: ["ID", "PostDateTime"]}}))
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCT}:table/Thread"
add(F, "ForAnyValue deny example denies PostDateTime update", MULTI + "#reference_policies_multi-value-conditions-eval",
    "Imagine that the user makes a PutItem request that includes the attributes UserName, Message, and PostDateTime... The last test returns true, so the condition is true; because the Effect element is set to Deny, the request is denied.",
    sc(req(action="dynamodb:PutItem", resource=TABLE, context={ATTR: ["UserName", "Message", "PostDateTime"]}), identity=[ALLOW_ALL, DENY_ANY]), "ExplicitDeny",
    matched=[["identity_policies[1]", 0]])
add(F, "ForAnyValue deny example does not deny UserName only", MULTI + "#reference_policies_multi-value-conditions-examples",
    "Imagine the user instead makes a request to perform PutItem with just the UserName attribute... The condition returns false, so the effect of the policy (Deny) is also false",
    sc(req(action="dynamodb:PutItem", resource=TABLE, context={ATTR: ["UserName"]}), identity=[ALLOW_ALL, DENY_ANY]), "Allow")
ALLOW_ALLV = pol(st("Allow", "dynamodb:GetItem", "arn:aws:dynamodb:*:*:table/Thread", cond={"ForAllValues:StringEquals": {ATTR: ["ID", "Message", "Tags"]}}))
add(F, "ForAllValues allow example allows Message and Tags", MULTI + "#reference_policies_multi-value-conditions-examples",
    "Assume the user makes a request to DynamoDB to get the attributes Message and Tags from the Thread table. In that case, the request is allowed",
    sc(req(action="dynamodb:GetItem", resource=TABLE, context={ATTR: ["Message", "Tags"]}), identity=[ALLOW_ALLV]), "Allow")
add(F, "ForAllValues allow example rejects UserName", MULTI + "#reference_policies_multi-value-conditions-examples",
    "However, if the user's request includes the UserName attribute, the request fails.",
    sc(req(action="dynamodb:GetItem", resource=TABLE, context={ATTR: ["ID", "UserName"]}), identity=[ALLOW_ALLV]), "ImplicitDeny")
add(F, "ForAllValues allow with no key is permissive", MULTI + "#reference_policies_multi-value-conditions-examples",
    "When you use the ForAllValues condition operator, it returns true if there are no keys in the request",
    sc(req(action="dynamodb:GetItem", resource=TABLE), identity=[ALLOW_ALLV]), "Allow")

P_PLAIN = "Decision: an operator without a set qualifier on a key with several request values is true when any request value matches (negated operators: when none does)."
for op, vals, ctx, truth in [
    ("StringEquals", "b", ["a", "b"], True),
    ("StringEquals", "c", ["a", "b"], False),
    ("StringNotEquals", "b", ["a", "b"], False),
    ("StringNotEquals", "c", ["a", "b"], True),
    ("StringEquals", "a", ["a"], True),
    ("StringLike", "b*", ["a", "bb"], True),
]:
    cond_case(F, DECISION + "; " + SINGLE, P_PLAIN, op, "aws:TagKeys", vals, ctx, truth)

P_KEYCASE = "Key names are case-insensitive. For example, aws:CurrentTime is equivalent to AWS:currenttime."
add(F, "condition key name case-insensitive (policy upper)", VARS + "#policy-vars-intro", P_KEYCASE,
    sc(req(context={"aws:SourceIp": "10.0.0.1"}), identity=[pol(st(cond={"IpAddress": {"AWS:SOURCEIP": "10.0.0.0/8"}}))]), "Allow")
add(F, "condition key name case-insensitive (context lower)", VARS + "#policy-vars-intro", P_KEYCASE,
    sc(req(context={"aws:principaltag/team": "eng"}), identity=[pol(st(cond={"StringEquals": {"aws:PrincipalTag/team": "eng"}}))]), "Allow")
add(F, "CurrentTime key case-insensitive", VARS + "#policy-vars-intro", P_KEYCASE,
    sc(identity=[pol(st(cond={"DateGreaterThan": {"AWS:currenttime": "2026-01-01T00:00:00Z"}}))]), "Allow")
add(F, "key values stay case-sensitive", OPS + "#Conditions_String", "StringEquals: Exact matching, case sensitive",
    sc(identity=[pol(st(cond={"StringEquals": {"aws:username": "Alice"}}))]), "ImplicitDeny")

# ------------------------------------------------------------ global keys
P_GLOBAL = "Global condition keys that follow from the principal ARN are present in the request context (issue 3: filled in when the request context lacks them)."
for name, principal, op, key, val, expected in [
    ("aws:username for an IAM user", ALICE, "StringEquals", "aws:username", "alice", "Allow"),
    ("aws:username with path", f"arn:aws:iam::{ACCT}:user/dev/alice", "StringEquals", "aws:username", "alice", "Allow"),
    ("no aws:username for a role session", SESSION, "StringEquals", "aws:username", "R", "ImplicitDeny"),
    ("aws:username null for a role session", SESSION, "Null", "aws:username", "true", "Allow"),
    ("aws:PrincipalArn of a session is the role", SESSION, "StringEquals", "aws:PrincipalArn", ROLE, "Allow"),
    ("aws:PrincipalArn of a user", ALICE, "ArnEquals", "aws:PrincipalArn", ALICE, "Allow"),
    ("aws:PrincipalAccount", ALICE, "StringEquals", "aws:PrincipalAccount", ACCT, "Allow"),
    ("aws:PrincipalType User", ALICE, "StringEquals", "aws:PrincipalType", "User", "Allow"),
    ("aws:PrincipalType AssumedRole", SESSION, "StringEquals", "aws:PrincipalType", "AssumedRole", "Allow"),
    ("aws:PrincipalType FederatedUser", FED, "StringEquals", "aws:PrincipalType", "FederatedUser", "Allow"),
]:
    scen = sc(req(principal=principal), identity=[pol(st(cond={op: {key: val}}))],
              session=pol(st(action="*")) if principal == FED else None)
    add(F, name, KEYS, P_GLOBAL, scen, expected)
add(F, "context overrides derived aws:username", KEYS, P_GLOBAL,
    sc(req(context={"aws:username": "carol"}), identity=[pol(st(cond={"StringEquals": {"aws:username": "carol"}}))]), "Allow")
add(F, "root aws:PrincipalType Account", KEYS, P_GLOBAL,
    sc(req(principal=ROOT), resource=pol(st("Deny", principal="*", cond={"StringEquals": {"aws:PrincipalType": "Account"}}))), "ExplicitDeny")
P_TIME = "aws:CurrentTime / aws:EpochTime come from the evaluation time unless given (issue 3)."
for name, cond, expected, ctx in [
    ("CurrentTime after a past date", {"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}, "Allow", None),
    ("CurrentTime before a past date", {"DateLessThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}, "ImplicitDeny", None),
    ("EpochTime compared as date", {"DateGreaterThan": {"aws:EpochTime": "2026-01-01T00:00:00Z"}}, "Allow", None),
    ("EpochTime compared as number", {"NumericGreaterThan": {"aws:EpochTime": 1700000000}}, "Allow", None),
    ("EpochTime equals now", {"NumericEquals": {"aws:EpochTime": 1768478400}}, "Allow", None),
    ("given CurrentTime wins", {"DateLessThan": {"aws:CurrentTime": "2021-01-01T00:00:00Z"}}, "Allow", {"aws:CurrentTime": "2020-06-01T00:00:00Z"}),
]:
    add(F, name, KEYS + "#condition-keys-currenttime", P_TIME, sc(req(context=ctx), identity=[pol(st(cond=cond))]), expected)
add(F, "time window with now parameter", KEYS + "#condition-keys-currenttime", P_TIME,
    sc(identity=[pol(st(cond={"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}))]), "Allow", now="2030-06-01T00:00:00Z")

# --------------------------------------------------------------- variables
F = "variables.json"
HOME = "arn:aws:s3:::bucket/home/${aws:username}/*"
P_VAR = "In IAM policies, many actions allow you to provide a name for the specific resources ... a policy variable ... is replaced with the value from the request."
for name, version, principal, resource, expected in [
    ("resource variable matches own home", "2012-10-17", ALICE, "arn:aws:s3:::bucket/home/alice/file", "Allow"),
    ("resource variable rejects other home", "2012-10-17", ALICE, "arn:aws:s3:::bucket/home/bob/file", "ImplicitDeny"),
    ("resource variable for bob", "2012-10-17", BOB, "arn:aws:s3:::bucket/home/bob/file", "Allow"),
    ("version 2008: variable is literal text", "2008-10-17", ALICE, "arn:aws:s3:::bucket/home/alice/file", "ImplicitDeny"),
    ("version 2008: literal text matches itself", "2008-10-17", ALICE, "arn:aws:s3:::bucket/home/${aws:username}/file", "Allow"),
    ("no version: variable is literal text", None, ALICE, "arn:aws:s3:::bucket/home/alice/file", "ImplicitDeny"),
    ("no version: literal text matches itself", None, ALICE, "arn:aws:s3:::bucket/home/${aws:username}/x", "Allow"),
    ("variable without value never matches", "2012-10-17", SESSION, "arn:aws:s3:::bucket/home//file", "ImplicitDeny"),
    ("variable without value does not match literal", "2012-10-17", SESSION, "arn:aws:s3:::bucket/home/${aws:username}/file", "ImplicitDeny"),
]:
    add(F, name, GRAMMAR if version != "2012-10-17" else VARS,
        "Version 2008-10-17 or no Version: variables such as ${aws:username} are not recognized and are treated as literal strings." if version != "2012-10-17" else P_VAR,
        sc(req(principal=principal, resource=resource), identity=[pol(st(resource=HOME), version=version)]), expected)
P_DEF = "To add a default value to a variable, surround the default value with single quotes (' '), and separate the variable text and the default value with a comma and space (, )."
TEAMB = "arn:aws:s3:::DOC-EXAMPLE-BUCKET-${aws:PrincipalTag/team, 'company-wide'}"
for name, ctx, resource, expected in [
    ("default used without tag", None, "arn:aws:s3:::DOC-EXAMPLE-BUCKET-company-wide", "Allow"),
    ("tag value used when present", {"aws:PrincipalTag/team": "yellow"}, "arn:aws:s3:::DOC-EXAMPLE-BUCKET-yellow", "Allow"),
    ("default not used when tag present", {"aws:PrincipalTag/team": "yellow"}, "arn:aws:s3:::DOC-EXAMPLE-BUCKET-company-wide", "ImplicitDeny"),
    ("other team bucket denied", {"aws:PrincipalTag/team": "yellow"}, "arn:aws:s3:::DOC-EXAMPLE-BUCKET-blue", "ImplicitDeny"),
]:
    add(F, name, VARS + "#policy-vars-default-values", P_DEF, sc(req(resource=resource, context=ctx), identity=[pol(st(resource=TEAMB))]), expected)
P_SPECIAL = "${*} - use where you need an * (asterisk) character. ${?} - use where you need a ? (question mark) character. ${$} - use where you need a $ (dollar sign) character."
for name, pattern, resource, expected in [
    ("${*} is a literal asterisk", "arn:aws:s3:::bucket/${*}", "arn:aws:s3:::bucket/*", "Allow"),
    ("${*} is not a wildcard", "arn:aws:s3:::bucket/${*}", "arn:aws:s3:::bucket/x", "ImplicitDeny"),
    ("${?} is a literal question mark", "arn:aws:s3:::bucket/a${?}", "arn:aws:s3:::bucket/a?", "Allow"),
    ("${?} is not a wildcard", "arn:aws:s3:::bucket/a${?}", "arn:aws:s3:::bucket/ab", "ImplicitDeny"),
    ("${$} is a literal dollar", "arn:aws:s3:::bucket/${$}x", "arn:aws:s3:::bucket/$x", "Allow"),
    ("${$} before braces", "arn:aws:s3:::bucket/${$}{x}", "arn:aws:s3:::bucket/${x}", "Allow"),
    ("wildcard next to ${*}", "arn:aws:s3:::bucket/${*}*", "arn:aws:s3:::bucket/*abc", "Allow"),
]:
    add(F, name, VARS + "#policy-vars-specialchars", P_SPECIAL, sc(req(resource=resource), identity=[pol(st(resource=pattern))]), expected)
P_NOTWILD = "Decision (issue 3): a substituted value is never a wildcard."
add(F, "tag value * is not a wildcard", DECISION, P_NOTWILD,
    sc(req(resource="arn:aws:s3:::bucket-yellow", context={"aws:PrincipalTag/team": "*"}), identity=[pol(st(resource="arn:aws:s3:::bucket-${aws:PrincipalTag/team}"))]), "ImplicitDeny")
add(F, "tag value * matches a literal *", DECISION, P_NOTWILD,
    sc(req(resource="arn:aws:s3:::bucket-*", context={"aws:PrincipalTag/team": "*"}), identity=[pol(st(resource="arn:aws:s3:::bucket-${aws:PrincipalTag/team}"))]), "Allow")
add(F, "tag value ? in StringLike is literal", DECISION, P_NOTWILD,
    sc(req(context={"s3:prefix": "ab", "aws:PrincipalTag/p": "a?"}), identity=[pol(st(cond={"StringLike": {"s3:prefix": "${aws:PrincipalTag/p}"}}))]), "ImplicitDeny")
P_NOVAL = "If a variable that has no value in the authorization context is used as part of the Resource or NotResource element of a policy, the resource that includes a policy variable with no value will not match any resource."
add(F, "NotResource with unresolved variable matches nothing, so Deny applies", VARS + "#policy-vars-no-value", P_NOVAL,
    sc(identity=[ALLOW_ALL, pol(st("Deny", "s3:*", notresource="arn:aws:s3:::bucket/${aws:PrincipalTag/team}/*"))]), "ExplicitDeny")
add(F, "NotResource with resolved variable excludes own prefix", VARS + "#policy-vars-no-value", P_NOVAL,
    sc(req(resource="arn:aws:s3:::bucket/eng/x", context={"aws:PrincipalTag/team": "eng"}), identity=[ALLOW_ALL, pol(st("Deny", "s3:*", notresource="arn:aws:s3:::bucket/${aws:PrincipalTag/team}/*"))]), "Allow")
P_CONDNULL = "When you use a variable with no value in the condition element of an IAM policy, condition operators like StringEquals or StringLike do not match ... Inverted condition operators like StringNotEquals or StringNotLike do match against a null value"
for op, expected in [("StringEquals", "ImplicitDeny"), ("StringLike", "ImplicitDeny"), ("StringNotEquals", "Allow"), ("StringNotLike", "Allow")]:
    add(F, f"{op} against unresolved variable", VARS + "#policy-vars-no-value", P_CONDNULL,
        sc(req(context={"s3:ExistingObjectTag/Team": "eng"}), identity=[pol(st(cond={op: {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}}))]), expected)
add(F, "StringEquals against resolved variable", VARS + "#policy-vars-no-value", "aws:principaltag/Team must be equal to s3:ExistingObjectTag/Team to allow access",
    sc(req(context={"s3:ExistingObjectTag/Team": "eng", "aws:PrincipalTag/Team": "eng"}), identity=[pol(st(cond={"StringEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}}))]), "Allow")
add(F, "Deny with unset principal tag (doc example)", VARS + "#policy-vars-no-value", "Access is specifically denied when aws:principaltag/Team is not set.",
    sc(req(context={"s3:ExistingObjectTag/Team": "eng"}), identity=[ALLOW_ALL, pol(st("Deny", "s3:GetObject", "arn:aws:s3:::bucket/*", cond={"StringNotEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}}))]), "ExplicitDeny")
add(F, "StringLike with variable in s3:prefix", OPS + "#Conditions_String", "uses the StringLike condition operator to perform string matching with a policy variable",
    sc(req(action="s3:ListBucket", resource="arn:aws:s3:::bucket", context={"s3:prefix": "home/alice/docs"}), identity=[pol(st(action="s3:ListBucket", cond={"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}}))]), "Allow")
add(F, "StringLike with variable rejects other prefix", OPS + "#Conditions_String", "uses the StringLike condition operator to perform string matching with a policy variable",
    sc(req(action="s3:ListBucket", resource="arn:aws:s3:::bucket", context={"s3:prefix": "home/bob/docs"}), identity=[pol(st(action="s3:ListBucket", cond={"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}}))]), "ImplicitDeny")
add(F, "ArnLike with variable", OPS + "#Conditions_ARN", "You can use a policy variable with the ARN condition operator.",
    sc(req(context={"aws:SourceArn": f"arn:aws:iam::{ACCT}:user/x"}), identity=[pol(st(cond={"ArnLike": {"aws:SourceArn": "arn:aws:iam::${aws:PrincipalAccount}:user/*"}}))]), "Allow")
add(F, "ArnLike with variable other account", OPS + "#Conditions_ARN", "You can use a policy variable with the ARN condition operator.",
    sc(req(context={"aws:SourceArn": f"arn:aws:iam::{OTHER}:user/x"}), identity=[pol(st(cond={"ArnLike": {"aws:SourceArn": "arn:aws:iam::${aws:PrincipalAccount}:user/*"}}))]), "ImplicitDeny")
add(F, "Bool with variable", OPS + "#Conditions_Boolean", "You can use a policy variable with the Boolean condition operator.",
    sc(req(context={"aws:SecureTransport": "true", "aws:PrincipalTag/tls": "true"}), identity=[pol(st(cond={"Bool": {"aws:SecureTransport": "${aws:PrincipalTag/tls}"}}))]), "Allow")
add(F, "StringEquals variable in 2008 policy is literal", GRAMMAR, "Version 2008-10-17: policy variables are treated as literal strings",
    sc(req(context={"s3:prefix": "alice"}), identity=[pol(st(cond={"StringEquals": {"s3:prefix": "${aws:username}"}}), version="2008-10-17")]), "ImplicitDeny")
add(F, "StringEquals variable in 2008 policy matches literal text", GRAMMAR, "Version 2008-10-17: policy variables are treated as literal strings",
    sc(req(context={"s3:prefix": "${aws:username}"}), identity=[pol(st(cond={"StringEquals": {"s3:prefix": "${aws:username}"}}), version="2008-10-17")]), "Allow")
P_MV = "You can use any single-valued condition key as a variable. You can't use a multivalued condition key as a variable."
add(F, "multivalued key as variable has no value", VARS + "#policy-vars-intro", P_MV,
    sc(req(resource="arn:aws:s3:::bucket/a", context={"aws:TagKeys": ["a", "b"]}), identity=[pol(st(resource="arn:aws:s3:::bucket/${aws:TagKeys}"))]), "ImplicitDeny")
add(F, "multivalued key as variable uses default", DECISION, "Decision: a multivalued key used as a variable counts as having no value, so its default applies.",
    sc(req(resource="arn:aws:s3:::bucket/none", context={"aws:TagKeys": ["a", "b"]}), identity=[pol(st(resource="arn:aws:s3:::bucket/${aws:TagKeys, 'none'}"))]), "Allow")
add(F, "single-element array as variable", DECISION, "Decision: a key given as an array of one value is single-valued.",
    sc(req(resource="arn:aws:s3:::bucket/a", context={"aws:PrincipalTag/x": ["a"]}), identity=[pol(st(resource="arn:aws:s3:::bucket/${aws:PrincipalTag/x}"))]), "Allow")
add(F, "variable key name is case-insensitive", VARS + "#policy-vars-intro", P_KEYCASE,
    sc(req(resource="arn:aws:s3:::bucket/home/alice/f"), identity=[pol(st(resource="arn:aws:s3:::bucket/home/${AWS:UserName}/*"))]), "Allow")
add(F, "variable default in condition value", VARS + "#policy-vars-default-values", P_DEF,
    sc(req(context={"s3:prefix": "none"}), identity=[pol(st(cond={"StringEquals": {"s3:prefix": "${aws:PrincipalTag/team, 'none'}"}}))]), "Allow")
add(F, "two variables in one resource", VARS, P_VAR,
    sc(req(resource="arn:aws:s3:::eng-bucket/alice/f", context={"aws:PrincipalTag/team": "eng"}), identity=[pol(st(resource="arn:aws:s3:::${aws:PrincipalTag/team}-bucket/${aws:username}/*"))]), "Allow")
add(F, "variable at end without wildcard", VARS, P_VAR,
    sc(req(resource="arn:aws:iam::111122223333:user/alice", action="iam:GetUser"), identity=[pol(st(action="iam:GetUser", resource="arn:aws:iam::*:user/${aws:username}"))]), "Allow")
add(F, "variable at end rejects longer name", VARS, P_VAR,
    sc(req(resource="arn:aws:iam::111122223333:user/alice2", action="iam:GetUser"), identity=[pol(st(action="iam:GetUser", resource="arn:aws:iam::*:user/${aws:username}"))]), "ImplicitDeny")
add(F, "unterminated ${ is literal text", DECISION, "Decision: an unterminated ${ is literal text.",
    sc(req(resource="arn:aws:s3:::bucket/${x"), identity=[pol(st(resource="arn:aws:s3:::bucket/${x"))]), "Allow")
add(F, "Numeric operator does not take variables", OPS + "#Conditions_Numeric", "You can not use a policy variable with the Numeric condition operator.",
    sc(identity=[pol(st(cond={"NumericLessThan": {"s3:max-keys": "${aws:PrincipalTag/max}"}}))]), "MalformedPolicyDocument")
add(F, "IpAddress does not take variables", OPS + "#Conditions_IPAddress", "You can not use a policy variable with the IpAddress condition operator.",
    sc(identity=[pol(st(cond={"IpAddress": {"aws:SourceIp": "${aws:PrincipalTag/ip}"}}))]), "MalformedPolicyDocument")

# -------------------------------------------------------- actions/resources
F = "actions_resources.json"
P_ACT = "Action names are case insensitive... You can use wildcards (* or ?) as part of the action name."
for name, action, req_action, expected in [
    ("action case-insensitive (request lower)", "s3:GetObject", "s3:getobject", "Allow"),
    ("action case-insensitive (policy upper)", "S3:GETOBJECT", "s3:GetObject", "Allow"),
    ("service wildcard", "s3:*", "s3:PutObject", "Allow"),
    ("other service not matched", "s3:*", "ec2:RunInstances", "ImplicitDeny"),
    ("prefix wildcard", "s3:Get*", "s3:GetObjectAcl", "Allow"),
    ("prefix wildcard no match", "s3:Get*", "s3:PutObject", "ImplicitDeny"),
    ("infix wildcard", "iam:*AccessKey*", "iam:CreateAccessKey", "Allow"),
    ("infix wildcard list", "iam:*AccessKey*", "iam:ListAccessKeys", "Allow"),
    ("star matches all", "*", "sqs:SendMessage", "Allow"),
    ("question mark", "s3:Get?bject", "s3:GetObject", "Allow"),
    ("question mark one char only", "s3:Get?bject", "s3:GetObbject", "ImplicitDeny"),
    ("exact action only", "s3:GetObject", "s3:GetObjectAcl", "ImplicitDeny"),
    ("service prefix case-insensitive", "S3:Get*", "s3:GETOBJECT", "Allow"),
    ("wildcard in service", "*:GetObject", "s3:GetObject", "Allow"),
    ("array of actions", ["sqs:SendMessage", "s3:GetObject"], "s3:GetObject", "Allow"),
    ("array of actions none match", ["sqs:SendMessage", "sqs:ReceiveMessage"], "s3:GetObject", "ImplicitDeny"),
    ("suffix wildcard", "iam:*Report", "iam:GenerateCredentialReport", "Allow"),
]:
    add(F, name, ACTION, P_ACT, sc(req(action=req_action), identity=[pol(st(action=action))]), expected)
GETLIST = pol(st(action=["iam:Get*", "iam:List*"], sid="AllowGetList"), st("Deny", "iam:*Report", sid="DenyReports"))
P_GL = "The AllowGetList statement allows read-only access to IAM actions that begin with the prefixes Get and List. All other actions in IAM, such as iam:CreatePolicy are implicitly denied. The DenyReports statement explicitly denies access to IAM reports"
add(F, "AllowGetList allows GetUser", EVAL + "#AccessPolicyLanguage_Interplay", P_GL, sc(req(action="iam:GetUser"), identity=[GETLIST]), "Allow", matched=[["identity_policies[0]", 0]])
add(F, "AllowGetList implicitly denies CreatePolicy", EVAL + "#AccessPolicyLanguage_Interplay", P_GL, sc(req(action="iam:CreatePolicy"), identity=[GETLIST]), "ImplicitDeny", matched=[])
add(F, "DenyReports denies GetOrganizationsAccessReport", EVAL + "#AccessPolicyLanguage_Interplay", P_GL, sc(req(action="iam:GetOrganizationsAccessReport"), identity=[GETLIST]), "ExplicitDeny", matched=[["identity_policies[0]", 1]])
add(F, "DenyReports wins over another policy's allow", EVAL + "#AccessPolicyLanguage_Interplay", "If someone adds another policy to this principal to grant them access to IAM reports, such as iam:GenerateCredentialReport, report-related requests are still denied because of this explicit deny.",
    sc(req(action="iam:GenerateCredentialReport"), identity=[GETLIST, pol(st(action="iam:*"))]), "ExplicitDeny")
P_NA = "NotAction ... matches everything except the specified list of actions ... When you use NotAction with Allow, the statement allows access to all actions not listed; it never grants the listed ones."
for name, stmts, action, expected in [
    ("Allow NotAction grants other services", [st(notaction="iam:*")], "s3:GetObject", "Allow"),
    ("Allow NotAction does not grant listed service", [st(notaction="iam:*")], "iam:CreateUser", "ImplicitDeny"),
    ("Deny NotAction denies everything else", [st(action="*"), st("Deny", notaction="iam:*")], "s3:GetObject", "ExplicitDeny"),
    ("Deny NotAction leaves listed actions", [st(action="*"), st("Deny", notaction="iam:*")], "iam:ListUsers", "Allow"),
    ("NotAction list", [st(notaction=["iam:*", "s3:*"])], "s3:GetObject", "ImplicitDeny"),
    ("NotAction list other", [st(notaction=["iam:*", "s3:*"])], "ec2:RunInstances", "Allow"),
    ("NotAction case-insensitive", [st(notaction="S3:GETOBJECT")], "s3:getobject", "ImplicitDeny"),
    ("NotAction with resource restriction", [st(notaction="iam:*", resource="arn:aws:s3:::other/*")], "s3:GetObject", "ImplicitDeny"),
    ("Deny NotAction MFA example", [st(action="*"), st("Deny", notaction=["iam:*", "sts:*"], cond={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})], "s3:GetObject", "ExplicitDeny"),
]:
    add(F, name, NOTACTION, P_NA, sc(req(action=action), identity=[pol(*stmts)]), expected)
add(F, "Deny NotAction MFA example with MFA", NOTACTION, P_NA,
    sc(req(context={"aws:MultiFactorAuthPresent": "true"}), identity=[pol(st(action="*"), st("Deny", notaction=["iam:*", "sts:*"], cond={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}))]), "Allow")
P_RES = "You can use wildcard characters (* and ?) within any ARN segment ... the resource ARN is case sensitive ... wildcards can span segments such as slashes"
for name, resource, req_resource, expected in [
    ("wildcard crosses slashes", "arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", "Allow"),
    ("resource case-sensitive", "arn:aws:s3:::Bucket/*", OBJ, "ImplicitDeny"),
    ("question mark in resource", "arn:aws:s3:::bucket/ke?", OBJ, "Allow"),
    ("star resource", "*", "arn:aws:sqs:us-east-1:1:q", "Allow"),
    ("wildcard crosses colons", "arn:aws:dynamodb:*:*:table/Thread", TABLE, "Allow"),
    ("bucket is not its objects", "arn:aws:s3:::bucket", OBJ, "ImplicitDeny"),
    ("exact resource", OBJ, OBJ, "Allow"),
    ("array of resources", ["arn:aws:s3:::other/*", "arn:aws:s3:::bucket/*"], OBJ, "Allow"),
    ("infix wildcard resource", "arn:aws:s3:::*log*", "arn:aws:s3:::my-logs", "Allow"),
    ("resource prefix mismatch", "arn:aws:s3:::bucket/home/*", OBJ, "ImplicitDeny"),
    ("star in the middle of segments", "arn:aws:iam::*:user/*", ALICE, "Allow"),
    ("trailing text after wildcard must match", "arn:aws:s3:::bucket/*.txt", "arn:aws:s3:::bucket/a/b.txt", "Allow"),
    ("trailing text after wildcard mismatch", "arn:aws:s3:::bucket/*.txt", "arn:aws:s3:::bucket/a/b.txt.bak", "ImplicitDeny"),
]:
    add(F, name, RESOURCE, P_RES, sc(req(resource=req_resource), identity=[pol(st(resource=resource))]), expected)
P_NR = "NotResource ... matches every resource except those specified. ... Use NotResource with Allow carefully; it never grants the listed resources."
for name, stmts, resource, expected in [
    ("Allow NotResource grants others", [st(notresource="arn:aws:s3:::secret/*")], OBJ, "Allow"),
    ("Allow NotResource does not grant listed", [st(notresource="arn:aws:s3:::secret/*")], "arn:aws:s3:::secret/x", "ImplicitDeny"),
    ("Deny NotResource denies outside", [st(action="*"), st("Deny", "s3:*", notresource=["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"])], "arn:aws:s3:::other/x", "ExplicitDeny"),
    ("Deny NotResource leaves listed", [st(action="*"), st("Deny", "s3:*", notresource=["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"])], OBJ, "Allow"),
    ("Deny NotResource other action untouched", [st(action="*"), st("Deny", "s3:*", notresource="arn:aws:s3:::bucket/*")], "arn:aws:sqs:us-east-1:1:q", "ExplicitDeny"),
]:
    add(F, name, NOTRESOURCE, P_NR, sc(req(resource=resource), identity=[pol(*stmts)]), expected)
add(F, "action matches but resource does not", RESOURCE, "All elements of a statement must match for it to apply.",
    sc(req(action="sqs:SendMessage", resource="arn:aws:sqs:us-east-1:1:q"), identity=[pol(st(action="sqs:*", resource="arn:aws:sqs:*:*:other"))]), "ImplicitDeny")
add(F, "Deny NotResource on sqs leaves other service", NOTRESOURCE, P_NR,
    sc(req(action="s3:GetObject"), identity=[pol(st(action="*"), st("Deny", "sqs:*", notresource="arn:aws:sqs:*:*:mine"))]), "Allow")

# ----------------------------------------------------------------- layers
F = "layers.json"
P_DENY = "An explicit deny in any of these policies overrides the allow."
add(F, "no policy is an implicit deny", EVAL + "#policy-eval-denyallow", "By default, all requests are implicitly denied with the exception of the AWS account root user", sc(), "ImplicitDeny", matched=[])
add(F, "identity allow", EVAL + "#policy-eval-denyallow", "An explicit allow in an identity-based or resource-based policy overrides this default.", sc(identity=[pol(st(sid="A"))]), "Allow", matched=[["identity_policies[0]", 0]])
add(F, "allow and deny in one policy", EVAL + "#AccessPolicyLanguage_Interplay", "If policies that apply to a request include an Allow statement and a Deny statement, the Deny statement trumps the Allow statement.",
    sc(identity=[pol(st(), st("Deny"))]), "ExplicitDeny", matched=[["identity_policies[0]", 1]])
add(F, "deny in another identity policy", EVAL + "#policy-eval-denyallow", P_DENY, sc(identity=[pol(st()), pol(st("Deny", "s3:*"))]), "ExplicitDeny", matched=[["identity_policies[1]", 0]])
add(F, "allow from second policy", EVAL + "#policy-eval-denyallow", "If any statement in any applicable identity-based policies allows the requested action, the code continues.",
    sc(identity=[pol(st(action="ec2:*")), pol(st(action="s3:*"))]), "Allow", matched=[["identity_policies[1]", 0]])
add(F, "all matching allows are reported", DECISION, "Decision: an Allow lists every applicable Allow statement of the layers consulted.",
    sc(identity=[pol(st(action="s3:*"), st(action="s3:Get*")), pol(st(action="*"))]), "Allow", matched=[["identity_policies[0]", 0], ["identity_policies[0]", 1], ["identity_policies[1]", 0]])
add(F, "deny reported even with many allows", DECISION, "Decision: an ExplicitDeny lists every applicable Deny statement.",
    sc(identity=[pol(st(action="s3:*"), st("Deny", "s3:Get*")), pol(st("Deny", "*"))]), "ExplicitDeny", matched=[["identity_policies[0]", 1], ["identity_policies[1]", 0]])

# boundaries
P_B = "the entity can perform only the actions that are allowed by both its identity-based policies and its permissions boundaries"
for name, identity, boundary, action, expected in [
    ("boundary and identity both allow", [pol(st(action="s3:*"))], pol(st(action="s3:GetObject")), "s3:GetObject", "Allow"),
    ("boundary does not allow", [pol(st(action="s3:*"))], pol(st(action="s3:GetObject")), "s3:PutObject", "ImplicitDeny"),
    ("boundary alone grants nothing", [], pol(st(action="s3:*")), "s3:GetObject", "ImplicitDeny"),
    ("identity allows iam, boundary only s3", [pol(st(action="iam:*"))], pol(st(action="s3:*")), "iam:CreateUser", "ImplicitDeny"),
    ("boundary explicit deny", [pol(st(action="*"))], pol(st(action="*"), st("Deny", "s3:GetObject")), "s3:GetObject", "ExplicitDeny"),
    ("boundary with wildcard allows", [pol(st(action="*"))], pol(st(action="*")), "sqs:SendMessage", "Allow"),
    ("boundary condition fails", [pol(st(action="*"))], pol(st(action="*", cond={"StringEquals": {"aws:RequestedRegion": "us-east-1"}})), "s3:GetObject", "ImplicitDeny"),
]:
    add(F, name, BOUND + "#access_policies_boundaries-eval-logic", P_B, sc(req(action=action), identity=identity, boundary=boundary), expected)
add(F, "boundary and role session", BOUND, P_B, sc(req(principal=SESSION, action="s3:PutObject"), identity=[pol(st(action="s3:*"))], boundary=pol(st(action="s3:Get*"))), "ImplicitDeny")
add(F, "boundary allows for role session", BOUND, P_B, sc(req(principal=SESSION), identity=[pol(st(action="s3:*"))], boundary=pol(st(action="s3:Get*"))), "Allow",
    matched=[["identity_policies[0]", 0], ["permissions_boundary", 0]])

# session policies
P_S = "the resulting session's permissions are the intersection of the IAM entity's identity-based policy and the session policies"
for name, principal, identity, session, action, expected in [
    ("session and identity allow", SESSION, [pol(st(action="s3:*"))], pol(st(action="s3:GetObject")), "s3:GetObject", "Allow"),
    ("session policy does not allow", SESSION, [pol(st(action="s3:*"))], pol(st(action="s3:GetObject")), "s3:PutObject", "ImplicitDeny"),
    ("session policy alone grants nothing", SESSION, [], pol(st(action="s3:*")), "s3:GetObject", "ImplicitDeny"),
    ("role session without session policy", SESSION, [pol(st(action="s3:*"))], None, "s3:GetObject", "Allow"),
    ("session policy deny", SESSION, [pol(st(action="*"))], pol(st(action="*"), st("Deny", "s3:*")), "s3:GetObject", "ExplicitDeny"),
    ("federated user with session policy", FED, [pol(st(action="s3:*"))], pol(st(action="s3:*")), "s3:GetObject", "Allow"),
    ("federated user session policy limits", FED, [pol(st(action="*"))], pol(st(action="s3:*")), "ec2:RunInstances", "ImplicitDeny"),
    ("federated user without session policy", FED, [pol(st(action="s3:*"))], None, "s3:GetObject", "ImplicitDeny"),
]:
    add(F, name, EVAL + "#policy-eval-denyallow", P_S + ". If there is no session policy, the code checks whether the principal is a role session. If the principal is a role session, then the request is Allowed. Otherwise, the request is implicitly denied.",
        sc(req(principal=principal, action=action), identity=identity, session=session), expected)
add(F, "session policy ignored for an IAM user", DECISION, "Decision: session policies apply to session principals only; one given for another caller is ignored.",
    sc(identity=[pol(st(action="s3:*"))], session=pol(st(action="ec2:*"))), "Allow")

# SCPs
P_SCP = "If an SCP is present, identity-based and resource-based policies grant permissions to principals in member accounts only if those policies and the SCP allow the action."
FULL = pol(st(action="*", sid="FullAWSAccess"))
for name, scps, identity, action, expected in [
    ("SCP allows", [[FULL]], [pol(st(action="s3:*"))], "s3:GetObject", "Allow"),
    ("SCP does not allow service", [[pol(st(action="ec2:*"))]], [pol(st(action="s3:*"))], "s3:GetObject", "ImplicitDeny"),
    ("every SCP level must allow", [[FULL], [pol(st(action="ec2:*"))]], [pol(st(action="*"))], "s3:GetObject", "ImplicitDeny"),
    ("two levels both allow", [[FULL], [pol(st(action="s3:*"))]], [pol(st(action="*"))], "s3:GetObject", "Allow"),
    ("SCP explicit deny", [[FULL, pol(st("Deny", "s3:*"))]], [pol(st(action="*"))], "s3:GetObject", "ExplicitDeny"),
    ("SCP allows but identity does not", [[FULL]], [], "s3:GetObject", "ImplicitDeny"),
    ("one policy of a level allowing is enough", [[pol(st(action="ec2:*")), pol(st(action="s3:*"))]], [pol(st(action="*"))], "s3:GetObject", "Allow"),
    ("empty SCP level is ignored", [[]], [pol(st(action="*"))], "s3:GetObject", "Allow"),
    ("SCP with condition", [[pol(st(action="*", cond={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}))]], [pol(st(action="*"))], "s3:GetObject", "ImplicitDeny"),
    ("SCP deny with NotAction", [[FULL, pol(st("Deny", notaction=["iam:*", "sts:*"]))]], [pol(st(action="*"))], "s3:GetObject", "ExplicitDeny"),
]:
    add(F, name, EVAL + "#policy-eval-basics", P_SCP, sc(req(action=action), identity=identity, scps=scps), expected)
add(F, "SCP applies to root user", EVAL + "#policy-eval-basics", "The SCP maximum applies to principals in member accounts, including each AWS account root user.",
    sc(req(principal=ROOT), scps=[[pol(st(action="ec2:*"))]]), "ImplicitDeny")
add(F, "root user has full access", EVAL + "#policy-eval-denyallow", "By default, all requests are implicitly denied with the exception of the AWS account root user, which has full access.",
    sc(req(principal=ROOT)), "Allow")
add(F, "root user denied by resource policy", EVAL + "#policy-eval-denyallow", P_DENY,
    sc(req(principal=ROOT), resource=pol(st("Deny", principal={"AWS": ACCT}))), "ExplicitDeny")
add(F, "SCP, boundary and identity must all allow", EVAL + "#policy-eval-basics", "If both a permissions boundary and an SCP are present, then the boundary, the SCP, and the identity-based policy must all allow the action.",
    sc(identity=[pol(st(action="*"))], boundary=pol(st(action="s3:*")), scps=[[FULL]]), "Allow")
add(F, "SCP, boundary and identity: boundary missing action", EVAL + "#policy-eval-basics", "If both a permissions boundary and an SCP are present, then the boundary, the SCP, and the identity-based policy must all allow the action.",
    sc(identity=[pol(st(action="*"))], boundary=pol(st(action="ec2:*")), scps=[[FULL]]), "ImplicitDeny")
add(F, "SCP limits resource-policy grant too", EVAL + "#policy-eval-basics", P_SCP,
    sc(resource=pol(st(principal={"AWS": ALICE})), scps=[[pol(st(action="ec2:*"))]]), "ImplicitDeny")
add(F, "SCP does not apply to anonymous callers", DECISION, "Decision: SCPs apply to principals of member accounts; an anonymous caller has none.",
    sc(req(principal=None), resource=pol(st(principal="*")), scps=[[pol(st(action="ec2:*"))]]), "Allow")
add(F, "SCP of caller's account applies cross-account", XACCT, "When AWS evaluates this account, it checks the identity-based policy and any policies that can limit an identity-based policy.",
    sc(req(principal=XUSER, resource_account=ACCT), identity=[pol(st(action="*"))], resource=pol(st(principal={"AWS": XUSER})), scps=[[pol(st(action="ec2:*"))]]), "ImplicitDeny")

# RCPs
P_RCP = "Resource control policy levels: when present, every level must allow (issue 3)."
RCPFULL = pol(st(action="*", principal="*", sid="RCPFullAWSAccess"))
for name, rcps, expected in [
    ("RCP allows", [[RCPFULL]], "Allow"),
    ("RCP does not allow service", [[pol(st(action="sqs:*", principal="*"))]], "ImplicitDeny"),
    ("RCP two levels", [[RCPFULL], [pol(st(action="s3:*", principal="*"))]], "Allow"),
    ("RCP second level missing", [[RCPFULL], [pol(st(action="sqs:*", principal="*"))]], "ImplicitDeny"),
    ("RCP deny", [[RCPFULL, pol(st("Deny", "s3:*", principal="*"))]], "ExplicitDeny"),
    ("RCP deny for outside principals only (inside)", [[RCPFULL, pol(st("Deny", "s3:*", principal="*", cond={"StringNotEqualsIfExists": {"aws:PrincipalAccount": ACCT}}))]], "Allow"),
    ("RCP without Principal", [[pol(st(action="*"))]], "Allow"),
]:
    add(F, name, DECISION, P_RCP, sc(identity=[pol(st(action="*"))], rcps=rcps), expected)
add(F, "RCP deny for outside principals (outside)", DECISION, P_RCP,
    sc(req(principal=XUSER, resource_account=ACCT), identity=[pol(st(action="*"))], resource=pol(st(principal="*")),
       rcps=[[RCPFULL, pol(st("Deny", "s3:*", principal="*", cond={"StringNotEqualsIfExists": {"aws:PrincipalAccount": ACCT}}))]]), "ExplicitDeny")
add(F, "RCP applies to anonymous callers", DECISION, P_RCP,
    sc(req(principal=None), resource=pol(st(principal="*")), rcps=[[pol(st(action="sqs:*", principal="*"))]]), "ImplicitDeny")

# resource policies, same account
P_RBP = "If a resource-based policy grants permission directly to the IAM user or the session principal that is making the request, then an implicit deny in an identity-based policy, a permissions boundary, or a session policy does not impact the final decision."
P_ROLE = "IAM role – Resource-based policies that grant permissions to an IAM role ARN are limited by an implicit deny in a permissions boundary or session policy."
P_ACCT = "You can specify AWS account identifiers in the Principal element of a resource-based policy ... This delegates authority to the account."
EV = EVAL + "#policy-eval-denyallow"
for name, principal, identity, resource, boundary, session, expected, passage in [
    ("bucket policy grants user, no identity policy", ALICE, [], pol(st(principal={"AWS": ALICE})), None, None, "Allow", P_RBP),
    ("bucket policy grants user, boundary does not allow", ALICE, [], pol(st(principal={"AWS": ALICE})), pol(st(action="ec2:*")), None, "Allow", "IAM user – Within the same account, resource-based policies that grant permissions to an IAM user ARN are not limited by an implicit deny in an identity-based policy or permissions boundary."),
    ("bucket policy grants account root only delegates", ALICE, [], pol(st(principal={"AWS": ROOT})), None, None, "ImplicitDeny", P_ACCT),
    ("bucket policy grants account id only delegates", ALICE, [], pol(st(principal={"AWS": ACCT})), None, None, "ImplicitDeny", P_ACCT),
    ("account grant with identity allow", ALICE, [pol(st())], pol(st(principal={"AWS": ACCT})), None, None, "Allow", P_ACCT),
    ("bucket policy grants everyone", ALICE, [], pol(st(principal="*")), None, None, "Allow", "You can use a wildcard (*) to specify all principals in the Principal element of a resource-based policy"),
    ("bucket policy grants AWS *", ALICE, [], pol(st(principal={"AWS": "*"})), None, None, "Allow", "You can use a wildcard (*) to specify all principals in the Principal element of a resource-based policy"),
    ("grant to role ARN allows session", SESSION, [], pol(st(principal={"AWS": ROLE})), None, None, "Allow", P_ROLE),
    ("grant to role ARN limited by boundary", SESSION, [], pol(st(principal={"AWS": ROLE})), pol(st(action="ec2:*")), None, "ImplicitDeny", P_ROLE),
    ("grant to role ARN limited by session policy", SESSION, [], pol(st(principal={"AWS": ROLE})), None, pol(st(action="ec2:*")), "ImplicitDeny", P_ROLE),
    ("grant to role ARN with path", SESSION, [], pol(st(principal={"AWS": f"arn:aws:iam::{ACCT}:role/team/R"})), None, None, "Allow", P_ROLE),
    ("grant to session ARN not limited by session policy", SESSION, [], pol(st(principal={"AWS": SESSION})), None, pol(st(action="ec2:*")), "Allow", "IAM role session – Permissions granted directly to a session are not limited by an implicit deny in an identity-based policy, a permissions boundary, or session policy."),
    ("grant to session ARN not limited by boundary", SESSION, [], pol(st(principal={"AWS": SESSION})), pol(st(action="ec2:*")), None, "Allow", "IAM role session – Permissions granted directly to a session are not limited by an implicit deny in an identity-based policy, a permissions boundary, or session policy."),
    ("grant to other session does not apply", SESSION, [], pol(st(principal={"AWS": f"arn:aws:sts::{ACCT}:assumed-role/R/other"})), None, None, "ImplicitDeny", P_RBP),
    ("grant to federated user ARN", FED, [], pol(st(principal={"AWS": FED})), None, None, "Allow", "IAM federated user sessions – resource-based policies that grant permissions to a federated user ARN grant permissions directly to the session."),
    ("grant to federated user not limited by session policy", FED, [], pol(st(principal={"AWS": FED})), None, pol(st(action="ec2:*")), "Allow", "Permissions granted directly to a session are not limited by an implicit deny in an identity-based policy, a permissions boundary, or session policy."),
    ("grant to another user", ALICE, [], pol(st(principal={"AWS": BOB})), None, None, "ImplicitDeny", P_RBP),
    ("resource deny beats identity allow", ALICE, [pol(st())], pol(st("Deny", principal={"AWS": ALICE})), None, None, "ExplicitDeny", P_DENY),
    ("resource deny to account beats identity allow", ALICE, [pol(st())], pol(st("Deny", principal={"AWS": ACCT})), None, None, "ExplicitDeny", P_DENY),
    ("identity allow suffices with unrelated bucket policy", ALICE, [pol(st())], pol(st(principal={"AWS": BOB})), None, None, "Allow", "If either the identity-based policy or the resource-based policy within the same account allows the request and the other doesn't, the request is still allowed."),
    ("identity deny beats resource grant", ALICE, [pol(st("Deny"))], pol(st(principal={"AWS": ALICE})), None, None, "ExplicitDeny", P_DENY),
    ("boundary deny beats resource grant", ALICE, [], pol(st(principal={"AWS": ALICE})), pol(st(action="*"), st("Deny")), None, "ExplicitDeny", P_DENY),
    ("resource grant with condition true", ALICE, [], pol(st(principal={"AWS": ALICE}, cond={"Bool": {"aws:SecureTransport": "true"}})), None, None, "ImplicitDeny", P_MISSING),
    ("resource grant to service principal does not apply to user", ALICE, [], pol(st(principal={"Service": "cloudtrail.amazonaws.com"})), None, None, "ImplicitDeny", P_RBP),
    ("resource grant with resource mismatch", ALICE, [], pol(st(principal={"AWS": ALICE}, resource="arn:aws:s3:::other/*")), None, None, "ImplicitDeny", P_RBP),
    ("resource grant listing user among others", ALICE, [], pol(st(principal={"AWS": [BOB, ALICE]})), None, None, "Allow", P_RBP),
]:
    add(F, name, EV, passage, sc(req(principal=principal), identity=identity, resource=resource, boundary=boundary, session=session), expected)
add(F, "role grant reports the resource statement", EV, P_ROLE, sc(req(principal=SESSION), resource=pol(st(principal={"AWS": ROLE}, sid="RoleGrant"))), "Allow", matched=[["resource_policy", 0]])

CARLOS = f"arn:aws:iam::123456789012:user/carlossalazar"
CID = pol(st(sid="AllowS3ListRead", action=["s3:GetBucketLocation", "s3:GetAccountPublicAccessBlock", "s3:ListAccessPoints", "s3:ListAllMyBuckets"], resource="arn:aws:s3:::*"),
          st(sid="AllowS3Self", action="s3:*", resource=["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"]),
          st("Deny", "s3:*", "arn:aws:s3:::*log*", sid="DenyS3Logs"))
CRB = pol(st(principal={"AWS": CARLOS}, action="s3:*", resource=["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"]))
add(F, "Carlos saves to carlossalazar-logs", EVAL + "#policies_evaluation_example", "It finds one, because the identity-based policy explicitly denies Carlos access to any S3 buckets used for logging. Carlos is denied access.",
    sc(req(principal=CARLOS, action="s3:PutObject", resource="arn:aws:s3:::carlossalazar-logs"), identity=[CID], resource=CRB), "ExplicitDeny", matched=[["identity_policies[0]", 2]])
add(F, "Carlos saves to carlossalazar", EVAL + "#policies_evaluation_example", "Both the identity-based policy and the resource-based policy allow the request. Therefore, AWS allows the request.",
    sc(req(principal=CARLOS, action="s3:PutObject", resource="arn:aws:s3:::carlossalazar"), identity=[CID], resource=CRB), "Allow",
    matched=[["identity_policies[0]", 1], ["resource_policy", 0]])
add(F, "Carlos lists all buckets", EVAL + "#policies_evaluation_example", "The AllowS3ListRead statement in this policy allows Carlos to view a list of all of the buckets in the account.",
    sc(req(principal=CARLOS, action="s3:ListAllMyBuckets", resource="arn:aws:s3:::"), identity=[CID]), "Allow")

# NotPrincipal
P_NP = "When you use NotPrincipal in the same policy statement as \"Effect\": \"Deny\", the actions specified in the policy statement are explicitly denied to all principals except for the ones specified. ... you must also specify the account ARN of the not-denied principal."
BOBX = f"arn:aws:iam::{OTHER}:user/Bob"
for name, principal, notp, expected in [
    ("NotPrincipal deny hits others", ALICE, {"AWS": [BOBX, f"arn:aws:iam::{OTHER}:root"]}, "ExplicitDeny"),
    ("NotPrincipal deny spares user and account", BOBX, {"AWS": [BOBX, f"arn:aws:iam::{OTHER}:root"]}, "Allow"),
    ("NotPrincipal without account ARN still denies user", BOBX, {"AWS": BOBX}, "ExplicitDeny"),
    ("NotPrincipal spares role session with session, role and account", f"arn:aws:sts::{OTHER}:assumed-role/cross-account-read-only-role/cross-account-audit-app",
     {"AWS": [f"arn:aws:sts::{OTHER}:assumed-role/cross-account-read-only-role/cross-account-audit-app", f"arn:aws:iam::{OTHER}:role/cross-account-read-only-role", f"arn:aws:iam::{OTHER}:root"]}, "Allow"),
    ("NotPrincipal without role ARN denies the session", f"arn:aws:sts::{OTHER}:assumed-role/cross-account-read-only-role/cross-account-audit-app",
     {"AWS": [f"arn:aws:sts::{OTHER}:assumed-role/cross-account-read-only-role/cross-account-audit-app", f"arn:aws:iam::{OTHER}:root"]}, "ExplicitDeny"),
]:
    acct = OTHER if OTHER in principal else ACCT
    add(F, name, NOTPRINCIPAL + "#specifying-notprincipal", P_NP,
        sc(req(principal=principal, resource_account=ACCT), identity=[pol(st(action="*"))],
           resource=pol(st(principal="*"), st("Deny", "s3:*", notprincipal=notp))), expected)
add(F, "NotPrincipal allow grants everyone else", NOTPRINCIPAL, "Doing so allows all principals except the one named in the NotPrincipal element.",
    sc(resource=pol(st(notprincipal={"AWS": BOB}))), "Allow")
add(F, "NotPrincipal allow does not grant the listed principal", NOTPRINCIPAL, "Doing so allows all principals except the one named in the NotPrincipal element.",
    sc(req(principal=BOB), resource=pol(st(notprincipal={"AWS": [BOB, ROOT]}))), "ImplicitDeny")
add(F, "NotPrincipal allow includes anonymous", NOTPRINCIPAL, "By doing this, you might grant access to anonymous (unauthenticated) users.",
    sc(req(principal=None), resource=pol(st(notprincipal={"AWS": BOB}))), "Allow")
# Which identities of the caller's chain must be listed depends on the effect:
# all of them for a Deny to spare the caller, any one for an Allow to leave it
# out (docs/policy-semantics.md).
P_NP_ALLOW = "Decision: an Allow with NotPrincipal does not apply to a caller when any identity of its chain (its own ARN, its role, its account) is listed; a Deny with NotPrincipal spares a caller only when every identity of its chain is listed."
NP_SESSION = f"arn:aws:sts::{ACCT}:assumed-role/R/s1"
for name, principal, notp, expected in [
    ("NotPrincipal allow naming only the caller's ARN does not grant it", BOB, {"AWS": BOB}, "ImplicitDeny"),
    ("NotPrincipal allow naming only the caller's account does not grant it", BOB, {"AWS": ROOT}, "ImplicitDeny"),
    ("NotPrincipal allow naming only the session's role does not grant the session", NP_SESSION, {"AWS": ROLE}, "ImplicitDeny"),
    ("NotPrincipal allow naming only the session does not grant it", NP_SESSION, {"AWS": NP_SESSION}, "ImplicitDeny"),
    ("NotPrincipal allow naming someone else grants the caller", ALICE, {"AWS": [BOB, f"arn:aws:iam::{OTHER}:root"]}, "Allow"),
]:
    add(F, name, DECISION + "; " + NOTPRINCIPAL + "#specifying-notprincipal-allow", P_NP_ALLOW,
        sc(req(principal=principal), resource=pol(st(notprincipal=notp))), expected)
for name, principal, notp, expected in [
    ("NotPrincipal deny naming only the caller's ARN still denies it", BOB, {"AWS": BOB}, "ExplicitDeny"),
    ("NotPrincipal deny naming only the session's role and account still denies the session", NP_SESSION, {"AWS": [ROLE, ROOT]}, "ExplicitDeny"),
    ("NotPrincipal deny naming session, role and account spares the session", NP_SESSION, {"AWS": [NP_SESSION, ROLE, ROOT]}, "Allow"),
]:
    add(F, name, DECISION + "; " + NOTPRINCIPAL + "#specifying-notprincipal", P_NP_ALLOW,
        sc(req(principal=principal), identity=[pol(st(action="*"))],
           resource=pol(st("Deny", "s3:*", notprincipal=notp))), expected)

# cross-account
P_X = "For cross-account requests, the requester in the trusted AccountA must have an identity-based policy... Additionally, the resource-based policy in AccountB must allow the requester in AccountA to access the resource."
XR = dict(principal=XUSER, resource_account=ACCT)
for name, identity, resource, boundary, expected in [
    ("identity only is not enough", [pol(st(action="*"))], None, None, "ImplicitDeny"),
    ("resource grant only is not enough", [], pol(st(principal={"AWS": XUSER})), None, "ImplicitDeny"),
    ("both sides allow", [pol(st(action="*"))], pol(st(principal={"AWS": XUSER})), None, "Allow"),
    ("account root grant delegates across accounts", [pol(st(action="*"))], pol(st(principal={"AWS": f"arn:aws:iam::{OTHER}:root"})), None, "Allow"),
    ("account id grant delegates across accounts", [pol(st(action="*"))], pol(st(principal={"AWS": OTHER})), None, "Allow"),
    ("everyone grant with identity", [pol(st(action="*"))], pol(st(principal="*")), None, "Allow"),
    ("everyone grant without identity", [], pol(st(principal="*")), None, "ImplicitDeny"),
    ("grant to another account", [pol(st(action="*"))], pol(st(principal={"AWS": "999999999999"})), None, "ImplicitDeny"),
    ("boundary applies on identity side", [pol(st(action="*"))], pol(st(principal={"AWS": XUSER})), pol(st(action="ec2:*")), "ImplicitDeny"),
    ("resource deny across accounts", [pol(st(action="*"))], pol(st(principal="*"), st("Deny", principal={"AWS": OTHER})), None, "ExplicitDeny"),
    ("identity deny across accounts", [pol(st(action="*"), st("Deny", "s3:*"))], pol(st(principal={"AWS": XUSER})), None, "ExplicitDeny"),
]:
    add(F, "cross-account: " + name, XACCT + "#policy-eval-cross-account", P_X, sc(req(**XR), identity=identity, resource=resource, boundary=boundary), expected)
XCID = pol(st(sid="AllowS3ListRead", action="s3:ListAllMyBuckets"), st(sid="AllowS3ProductionObjectActions", action="s3:*Object*", resource="arn:aws:s3:::Production/*"),
           st("Deny", "s3:*", ["arn:aws:s3:::*log*", "arn:aws:s3:::*log*/*"], sid="DenyS3Logs"))
XCRB = pol(st(action=["s3:GetObject*", "s3:PutObject*", "s3:ReplicateObject", "s3:RestoreObject"], principal={"AWS": "arn:aws:iam::111111111111:user/carlossalazar"}, resource="arn:aws:s3:::Production/*"))
XC = "arn:aws:iam::111111111111:user/carlossalazar"
add(F, "cross-account Carlos writes to Production", XACCT + "#policies_evaluation_example-cross-account", "Because both accounts allow the request, the final decision is to allow the request.",
    sc(req(principal=XC, action="s3:PutObject", resource="arn:aws:s3:::Production/file", resource_account="222222222222"), identity=[XCID], resource=XCRB), "Allow")
add(F, "cross-account Carlos writes to Production-logs", XACCT + "#policies_evaluation_example-cross-account", "Because the request is explicitly denied within one of the accounts, the final decision is to deny the request.",
    sc(req(principal=XC, action="s3:PutObject", resource="arn:aws:s3:::Production-logs/file", resource_account="222222222222"), identity=[XCID]), "ExplicitDeny")
add(F, "cross-account Carlos cannot delete", XACCT + "#policies_evaluation_example-cross-account", "He can create and edit, but not delete the objects in the bucket.",
    sc(req(principal=XC, action="s3:DeleteObject", resource="arn:aws:s3:::Production/file", resource_account="222222222222"), identity=[XCID], resource=XCRB), "ImplicitDeny")
add(F, "cross-account Carlos cannot manage bucket", XACCT + "#policies_evaluation_example-cross-account", "He can't manage the bucket itself.",
    sc(req(principal=XC, action="s3:PutBucketPolicy", resource="arn:aws:s3:::Production", resource_account="222222222222"), identity=[pol(st(action="s3:*"))], resource=XCRB), "ImplicitDeny")
add(F, "cross-account role session via role grant", XACCT, P_X,
    sc(req(principal=f"arn:aws:sts::{OTHER}:assumed-role/Auditor/s", resource_account=ACCT), identity=[pol(st(action="s3:*"))], resource=pol(st(principal={"AWS": f"arn:aws:iam::{OTHER}:role/Auditor"}))), "Allow")
add(F, "resource_account defaults to the principal's", DECISION, "resource_account defaults to the principal's account (issue 3).",
    sc(req(), resource=pol(st(principal={"AWS": ALICE}))), "Allow")
add(F, "same account given explicitly", DECISION, "resource_account defaults to the principal's account (issue 3).",
    sc(req(resource_account=ACCT), resource=pol(st(principal={"AWS": ALICE}))), "Allow")

# anonymous
P_ANON = "Authentication ... is not necessary for a few services, such as Amazon S3, that allow some requests from anonymous users."
AN = dict(principal=None, resource_account=ACCT)
for name, identity, resource, ctx, expected in [
    ("anonymous without policies", [], None, None, "ImplicitDeny"),
    ("anonymous with public bucket policy", [], pol(st(principal="*")), None, "Allow"),
    ("anonymous with AWS * grant", [], pol(st(principal={"AWS": "*"})), None, "Allow"),
    ("anonymous not matched by account grant", [], pol(st(principal={"AWS": ACCT})), None, "ImplicitDeny"),
    ("identity policies do not apply to anonymous", [pol(st(action="*"))], None, None, "ImplicitDeny"),
    ("anonymous with IP condition true", [], pol(st(principal="*", cond={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})), {"aws:SourceIp": "203.0.113.9"}, "Allow"),
    ("anonymous with IP condition false", [], pol(st(principal="*", cond={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})), {"aws:SourceIp": "198.51.100.9"}, "ImplicitDeny"),
    ("anonymous explicitly denied", [], pol(st(principal="*"), st("Deny", principal="*", cond={"Null": {"aws:PrincipalArn": "true"}})), None, "ExplicitDeny"),
    ("anonymous PrincipalType", [], pol(st(principal="*", cond={"StringEquals": {"aws:PrincipalType": "Anonymous"}})), None, "Allow"),
]:
    add(F, name, EVAL + "#policy-eval-denyallow", P_ANON, sc(req(context=ctx, **AN), identity=identity, resource=resource), expected)
add(F, "null principal is anonymous", DECISION, "An absent or null principal is an anonymous request (issue 3).",
    {"request": {"principal": None, "action": "s3:GetObject", "resource": OBJ}, "resource_policy": pol(st(principal="*"))}, "Allow")

# services and trust policies
add(F, "service principal granted", PRINCIPAL, "You can specify an AWS service as a principal.",
    sc(req(principal="cloudtrail.amazonaws.com", action="s3:PutObject", resource_account=ACCT), resource=pol(st("Allow", "s3:PutObject", principal={"Service": "cloudtrail.amazonaws.com"}))), "Allow")
add(F, "other service not granted", PRINCIPAL, "You can specify an AWS service as a principal.",
    sc(req(principal="config.amazonaws.com", action="s3:PutObject", resource_account=ACCT), resource=pol(st("Allow", "s3:PutObject", principal={"Service": "cloudtrail.amazonaws.com"}))), "ImplicitDeny")
TRUST = pol(st("Allow", "sts:AssumeRole", principal={"AWS": f"arn:aws:iam::{OTHER}:root"}, no_resource=True))
RROLE = f"arn:aws:iam::{ACCT}:role/Shared"
add(F, "trust policy cross-account assume role", XACCT, "The role's resource-based policy is called a role trust policy.",
    sc(req(principal=XUSER, action="sts:AssumeRole", resource=RROLE, resource_account=ACCT), identity=[pol(st(action="sts:AssumeRole", resource=RROLE))], resource=TRUST), "Allow")
add(F, "trust policy without identity allow", XACCT, P_X,
    sc(req(principal=XUSER, action="sts:AssumeRole", resource=RROLE, resource_account=ACCT), resource=TRUST), "ImplicitDeny")
add(F, "trust policy for a service", PRINCIPAL, "Service roles must include a trust policy.",
    sc(req(principal="ec2.amazonaws.com", action="sts:AssumeRole", resource=RROLE, resource_account=ACCT), resource=pol(st("Allow", "sts:AssumeRole", principal={"Service": "ec2.amazonaws.com"}, no_resource=True))), "Allow")
add(F, "trust policy with external id condition", "id_roles_create_for-user_externalid.md", "sts:ExternalId must match",
    sc(req(principal=XUSER, action="sts:AssumeRole", resource=RROLE, resource_account=ACCT, context={"sts:ExternalId": "wrong"}), identity=[pol(st(action="sts:AssumeRole", resource=RROLE))],
       resource=pol(st("Allow", "sts:AssumeRole", principal={"AWS": OTHER}, no_resource=True, cond={"StringEquals": {"sts:ExternalId": "12345"}}))), "ImplicitDeny")

P_TRUSTKMS = "For most resources, you only need an explicit allow for the principal in either an identity-based policy or a resource-based policy to grant access. IAM role trust policies and KMS key policies are exceptions to this logic, because they must explicitly allow access for principals."
SROLE = f"arn:aws:iam::{ACCT}:role/Local"
KEY = f"arn:aws:kms:us-east-1:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
for name, action, resource, identity, rp, expected in [
    ("same-account assume role needs the trust policy", "sts:AssumeRole", SROLE, [pol(st(action="sts:AssumeRole", resource=SROLE))], None, "ImplicitDeny"),
    ("same-account trust policy naming the account delegates", "sts:AssumeRole", SROLE, [pol(st(action="sts:AssumeRole", resource=SROLE))],
     pol(st("Allow", "sts:AssumeRole", principal={"AWS": ROOT}, no_resource=True)), "Allow"),
    ("same-account trust policy naming the account, no identity allow", "sts:AssumeRole", SROLE, [],
     pol(st("Allow", "sts:AssumeRole", principal={"AWS": ROOT}, no_resource=True)), "ImplicitDeny"),
    ("same-account trust policy naming the user", "sts:AssumeRole", SROLE, [],
     pol(st("Allow", "sts:AssumeRole", principal={"AWS": ALICE}, no_resource=True)), "Allow"),
    ("KMS needs the key policy", "kms:Decrypt", KEY, [pol(st(action="kms:*"))], None, "ImplicitDeny"),
    ("KMS key policy enabling IAM policies", "kms:Decrypt", KEY, [pol(st(action="kms:*"))], pol(st(action="kms:*", principal={"AWS": ROOT})), "Allow"),
    ("KMS key policy enabling IAM policies, no identity allow", "kms:Decrypt", KEY, [], pol(st(action="kms:*", principal={"AWS": ROOT})), "ImplicitDeny"),
    ("KMS key policy naming the user", "KMS:decrypt", KEY, [], pol(st(action="kms:Decrypt", principal={"AWS": ALICE})), "Allow"),
    ("other sts actions do not need a resource grant", "sts:GetSessionToken", "*", [pol(st(action="sts:GetSessionToken"))], None, "Allow"),
]:
    add(F, name, EVAL + "#policy-eval-denyallow", P_TRUSTKMS, sc(req(action=action, resource=resource), identity=identity, resource=rp), expected)

# sts:GetCallerIdentity needs no permission: allowed to every caller with
# credentials whatever the policies say, deny included; nothing decided it.
TEMP = "id_credentials_temp_request.md"
P_GCI = "GetCallerIdentity. No permissions are required to perform this operation. If an administrator adds a policy to your IAM user or role that explicitly denies access to the sts:GetCallerIdentity action, you can still perform this operation."
DENY_ALL = pol(st("Deny", action="*"))
GCI = "sts:GetCallerIdentity"
for name, principal, kw in [
    ("GetCallerIdentity with no policy", ALICE, {}),
    ("GetCallerIdentity despite an identity-policy deny", ALICE, dict(identity=[pol(st("Deny", action=GCI))])),
    ("GetCallerIdentity despite a session-policy deny", SESSION, dict(identity=[ALLOW_ALL], session=DENY_ALL)),
    ("GetCallerIdentity despite a boundary deny", ALICE, dict(identity=[ALLOW_ALL], boundary=DENY_ALL)),
    ("GetCallerIdentity despite an SCP deny", SESSION, dict(scps=[[DENY_ALL]])),
    ("GetCallerIdentity for a federated user without a session policy", FED, {}),
    ("GetCallerIdentity for the root user despite a deny", ROOT, dict(identity=[DENY_ALL])),
]:
    add(F, name, TEMP, P_GCI, sc(req(principal=principal, action=GCI, resource="*"), **kw), "Allow", matched=[])
add(F, "GetCallerIdentity needs credentials", DECISION + "; " + TEMP, "Decision: only a caller with credentials (root, user, role session, federated user) gets sts:GetCallerIdentity without a policy; an anonymous request is decided as usual.",
    sc(req(principal=None, action=GCI, resource="*"), identity=[ALLOW_ALL]), "ImplicitDeny")

# -------------------------------------------------------------- malformed
F = "malformed.json"
P_GR = "The policy grammar: elements, their values and which combinations are valid; invalid documents are rejected with MalformedPolicyDocument."
GOOD = st()
for name, doc, slot in [
    ("unknown operator StringEqual", pol(st(cond={"StringEqual": {"a": "b"}})), "identity"),
    ("unknown top-level element", {"Version": "2012-10-17", "Statements": [GOOD]}, "identity"),
    ("unknown statement element", pol({"Effect": "Allow", "Actions": "s3:*", "Resource": "*"}), "identity"),
    ("Action and NotAction", pol({"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"}), "identity"),
    ("Resource and NotResource", pol({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotResource": "*"}), "identity"),
    ("Principal and NotPrincipal", pol({"Effect": "Allow", "Principal": "*", "NotPrincipal": {"AWS": ACCT}, "Action": "s3:*", "Resource": "*"}), "resource"),
    ("missing Action", pol({"Effect": "Allow", "Resource": "*"}), "identity"),
    ("missing Effect", pol({"Action": "s3:*", "Resource": "*"}), "identity"),
    ("lowercase effect", pol({"Effect": "allow", "Action": "s3:*", "Resource": "*"}), "identity"),
    ("unsupported version", pol(GOOD, version="2012-10-18"), "identity"),
    ("duplicate Sid", pol(st(sid="A"), st(sid="A")), "identity"),
    ("Principal in identity policy", pol(st(principal="*")), "identity"),
    ("NotPrincipal in identity policy", pol(st(notprincipal={"AWS": ACCT})), "identity"),
    ("Principal in permissions boundary", pol(st(principal="*")), "boundary"),
    ("Principal in session policy", pol(st(principal="*")), "session"),
    ("missing Principal in resource policy", pol(st()), "resource"),
    ("empty Statement array", {"Version": "2012-10-17", "Statement": []}, "identity"),
    ("missing Statement", {"Version": "2012-10-17"}, "identity"),
    ("invalid JSON text", "{\"Version\": \"2012-10-17\", \"Statement\": [", "identity"),
    ("null condition value", pol(st(cond={"StringEquals": {"a": None}})), "identity"),
    ("invalid number", pol(st(cond={"NumericEquals": {"s3:max-keys": "abc"}})), "identity"),
    ("invalid date", pol(st(cond={"DateEquals": {"aws:CurrentTime": "yesterday"}})), "identity"),
    ("invalid IP", pol(st(cond={"IpAddress": {"aws:SourceIp": "300.1.1.1"}})), "identity"),
    ("invalid CIDR prefix", pol(st(cond={"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}})), "identity"),
    ("invalid Bool value", pol(st(cond={"Bool": {"aws:SecureTransport": "yes"}})), "identity"),
    ("NullIfExists does not exist", pol(st(cond={"NullIfExists": {"a": "true"}})), "identity"),
    ("operator names are case-sensitive", pol(st(cond={"stringequals": {"a": "b"}})), "identity"),
    ("unknown set qualifier", pol(st(cond={"ForSomeValues:StringEquals": {"a": "b"}})), "identity"),
    ("resource not an ARN", pol(st(resource="bucket")), "identity"),
    ("action without service", pol(st(action="GetObject")), "identity"),
    ("principal string other than *", pol(st(principal="someone")), "resource"),
    ("unknown principal type", pol(st(principal={"User": ALICE})), "resource"),
    ("empty Action array", pol(st(action=[])), "identity"),
    ("duplicate Effect key", "{\"Statement\": {\"Effect\": \"Deny\", \"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}}", "identity"),
    ("empty operator block", pol(st(cond={"StringEquals": {}})), "identity"),
    ("Null value not a boolean", pol(st(cond={"Null": {"a": "maybe"}})), "identity"),
    ("Statement is a string", {"Statement": "Allow everything"}, "identity"),
    ("Condition is an array", pol(st(cond=[{"StringEquals": {"a": "b"}}])), "identity"),
    ("Action is a number", pol(st(action=5)), "identity"),
    ("SCP naming a principal", pol(st(principal={"AWS": ACCT})), "scp"),
    ("same condition key twice in different case", pol(st(cond={"StringEquals": {"aws:username": "a", "AWS:UserName": "b"}})), "identity"),
    ("policy is an array", [GOOD], "identity"),
    ("Version is a number", {"Version": 2012, "Statement": [GOOD]}, "identity"),
    ("Sid is a number", pol({"Sid": 1, "Effect": "Allow", "Action": "*", "Resource": "*"}), "identity"),
    ("empty condition value array", pol(st(cond={"StringEquals": {"a": []}})), "identity"),
    ("Resource in a trust policy slot without Principal", pol(st("Allow", "sts:AssumeRole", no_resource=True)), "resource"),
]:
    s = sc()
    if slot == "identity":
        s["identity_policies"] = [doc]
    elif slot == "resource":
        s["resource_policy"] = doc
    elif slot == "boundary":
        s["permissions_boundary"] = doc
    elif slot == "session":
        s["session_policy"] = doc
    elif slot == "scp":
        s["service_control_policies"] = [[doc]]
    add(F, name, GRAMMAR, P_GR, s, "MalformedPolicyDocument")
add(F, "policy given as JSON text", DECISION, "Decision: a policy slot may hold the policy document or its JSON text.",
    sc(identity=[json.dumps(pol(st()))]), "Allow")
add(F, "Statement as a single object", "reference_policies_elements_statement.md", "The Statement element can contain a single statement or an array of individual statements.",
    sc(identity=[{"Version": "2012-10-17", "Statement": st()}]), "Allow")
add(F, "empty resource_policy object means none", DECISION, "Decision: {} or null in a policy slot means no policy.",
    sc(identity=[pol(st())], resource={}), "Allow")
add(F, "Id element accepted", "reference_policies_elements_id.md", "The Id element specifies an optional identifier for the policy.",
    sc(identity=[{"Version": "2012-10-17", "Id": "cd3ad3d9-2776-4ef1-a904-4c229d1642ee", "Statement": [st()]}]), "Allow")
add(F, "2008 version accepted", "reference_policies_elements_version.md", "2008-10-17. This was an earlier version of the policy language.",
    sc(identity=[pol(st(), version="2008-10-17")]), "Allow")
add(F, "Sids unique across statements accepted", "reference_policies_elements_sid.md", "In IAM, the Sid value must be unique within a JSON policy.",
    sc(identity=[pol(st(sid="One"), st(sid="Two", action="s3:Put*"))]), "Allow", matched=[["identity_policies[0]", 0]])
add(F, "numbers and booleans as condition values", "reference_policies_elements_datatypes.md", "Condition values may be written as strings, numbers or booleans.",
    sc(req(context={"s3:max-keys": "5", "aws:SecureTransport": "true"}), identity=[pol(st(cond={"NumericLessThanEquals": {"s3:max-keys": 10}, "Bool": {"aws:SecureTransport": True}}))]), "Allow")

total = 0
here = os.path.dirname(os.path.abspath(__file__))
DESCR = {
    "operators.json": "Every condition operator: matches, mismatches, several values (OR / NOR), missing keys.",
    "conditions.json": "IfExists, AND/OR combination, set operators, multi-valued keys, key-name case, global keys and time.",
    "variables.json": "Policy variables in Resource and condition values: defaults, special characters, missing values, versions.",
    "actions_resources.json": "Action/NotAction and Resource/NotResource matching.",
    "layers.json": "Decision layers: explicit deny, boundaries, session policies, SCPs, RCPs, resource policies, cross-account, anonymous.",
    "malformed.json": "Documents the parser must reject (MalformedPolicyDocument) or accept.",
}
# `--check`: compare with the committed files instead of writing them (CI).
check = "--check" in sys.argv[1:]
stale = []
for name, cases in FILES.items():
    text = json.dumps({"description": DESCR[name], "cases": cases}, indent=1) + "\n"
    path = os.path.join(here, name)
    if check:
        with open(path) as f:
            if f.read() != text:
                stale.append(name)
    else:
        with open(path, "w") as f:
            f.write(text)
    total += len(cases)
    print(name, len(cases))
print("total", total)
if stale:
    print("not what generate.py produces (run it and commit):", ", ".join(stale))
    sys.exit(1)
