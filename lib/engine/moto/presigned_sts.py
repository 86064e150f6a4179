"""Presigned STS GetCallerIdentity, as EKS's authenticator sends it: moto 5.2.5 neither routes it nor checks it.

An EKS token (lib/aws/eks-token.ts) is a SigV4 query-signed `GET /?Action=GetCallerIdentity&...`
whose signed headers include `x-k8s-aws-id: <cluster>`. The local control plane's token webhook
(lib/engine/control-plane/token-webhook.ts) sends it here, as EKS sends it to STS. moto routed a
request only by its Authorization header (a presigned one has none), took the access key from
that header only (the caller became the default account's `user/moto`), and checks no signature
anywhere. This module:

- routes a request whose query carries an `sts` credential scope (X-Amz-Credential) to STS;
- takes its access key from X-Amz-Credential;
- verifies the signature of a presigned GetCallerIdentity, as STS does, over the host of the scope's
  regional endpoint (`sts.<region>.amazonaws.com`: the webhook accepts tokens for it only) and the
  signed headers as received, with the secret the emulator knows for the key (an AssumeRole or IAM
  user key's own; any other key's is `test`, the local target's convention, lib/stacks/target.ts),
  and refuses an expired or future-dated one. That is what binds a token to its cluster: signed for
  another cluster's name, it does not verify with this one's.

The verification is written here with hashlib and hmac, independently of the SDK's signer that
makes the tokens, so the end-to-end test checks one implementation against the other. Header-signed
requests are not verified (moto checks no signature; nothing here changes that).
"""
import hashlib
import hmac
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, quote

from moto.iam.models import iam_backends
from moto.moto_server import werkzeug_app
from moto.sts import models as sts_models
from moto.sts import responses as sts_responses
from moto.sts.exceptions import STSClientError

_SCOPE = re.compile(r"^([^/]+)/(\d{8})/([a-z0-9-]+)/sts/aws4_request$")
_SKEW = timedelta(minutes=5)
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _scope(query: dict) -> re.Match | None:
    values = query.get("X-Amz-Credential") or []
    return _SCOPE.match(values[0]) if len(values) == 1 else None


_infer = werkzeug_app.DomainDispatcherApplication.infer_service_region_host


def _infer_presigned(self, environ, path):
    if not environ.get("HTTP_AUTHORIZATION"):
        scope = _scope(parse_qs(environ.get("QUERY_STRING", "")))
        if scope:
            return f"sts.{scope.group(3)}.amazonaws.com"
    return _infer(self, environ, path)


_get_access_key = sts_responses.TokenResponse.get_access_key


def _access_key(self):
    scope = None if "Authorization" in self.headers else _scope(self.querystring)
    return scope.group(1) if scope else _get_access_key(self)


def _secret_of(access_key: str) -> str:
    for by_partition in sts_models.sts_backends.values():
        for backend in by_partition.values():
            role = backend.get_assumed_role_from_access_key(access_key)
            if role:
                return role.secret_access_key
    for by_partition in iam_backends.values():
        for iam in by_partition.values():
            user = iam.get_user_from_access_key_id(access_key)
            if user:
                return next(k.secret_access_key for k in iam.list_access_keys(user.name) if k.access_key_id == access_key)
    return "test"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _refuse(code: str, message: str):
    raise STSClientError(code, message)


def _verify_presigned(self) -> None:
    q = {k: v for k, v in self.querystring.items()}
    if any(len(v) != 1 for v in q.values()):
        _refuse("InvalidParameterCombination", "a query parameter appears more than once")
    one = {k: v[0] for k, v in q.items()}
    scope = _scope(q)
    if not scope or one.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        _refuse("IncompleteSignature", "not an AWS4-HMAC-SHA256 signature with an sts credential scope")
    access_key, day, region = scope.group(1), scope.group(2), scope.group(3)
    try:
        signed_at = datetime.strptime(one.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        expires = int(one.get("X-Amz-Expires", ""))
    except ValueError:
        _refuse("IncompleteSignature", "X-Amz-Date or X-Amz-Expires is malformed")
    now = datetime.now(timezone.utc)
    if not 1 <= expires <= 604800 or signed_at.strftime("%Y%m%d") != day:
        _refuse("IncompleteSignature", "X-Amz-Expires or the credential scope's date is out of range")
    if now > signed_at + timedelta(seconds=expires):
        _refuse("ExpiredToken", f"Request has expired (signed {one['X-Amz-Date']}, valid {expires} s)")
    if signed_at > now + _SKEW:
        _refuse("SignatureDoesNotMatch", "Signature not yet current")
    signed_headers = one.get("X-Amz-SignedHeaders", "").split(";")
    host = f"sts.{region}.amazonaws.com"
    headers = {"host": host}
    for name in signed_headers:
        if name != "host":
            value = self.headers.get(name)
            if value is None:
                _refuse("SignatureDoesNotMatch", f"the signed header {name} is missing")
            headers[name] = " ".join(value.strip().split())
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(one.items()) if k != "X-Amz-Signature"
    )
    canonical = "\n".join([
        "GET", "/", canonical_query, "".join(f"{n}:{headers[n]}\n" for n in signed_headers),
        ";".join(signed_headers), _EMPTY_SHA256,
    ])
    scope_text = f"{day}/{region}/sts/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", one["X-Amz-Date"], scope_text, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(f"AWS4{_secret_of(access_key)}".encode(), day)
    for part in (region, "sts", "aws4_request"):
        key = _hmac(key, part)
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, one.get("X-Amz-Signature", "")):
        _refuse("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided")


_get_caller_identity = sts_responses.TokenResponse.get_caller_identity


def _get_caller_identity_checked(self):
    if "Authorization" not in self.headers and "X-Amz-Signature" in self.querystring:
        _verify_presigned(self)
    return _get_caller_identity(self)


werkzeug_app.DomainDispatcherApplication.infer_service_region_host = _infer_presigned
sts_responses.TokenResponse.get_access_key = _access_key
sts_responses.TokenResponse.get_caller_identity = _get_caller_identity_checked
