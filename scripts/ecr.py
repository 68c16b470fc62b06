"""Print an ECR login password for `docker login --password-stdin`, creating repositories.

Usage: python3 scripts/ecr.py ACCOUNT.dkr.ecr.REGION.amazonaws.com REPO [REPO ...]

The password goes to stdout only (piped straight into docker), never to argv or a file.
Credentials come from boto3's usual chain.
"""

from __future__ import annotations

import base64
import re
import sys

REGISTRY_PATTERN = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$"
)


def ensure_repositories(client: object, account: str, names: list[str]) -> list[str]:
    """Create each missing repository (scan on push); return the names created."""
    created = []
    for name in names:
        try:
            client.describe_repositories(registryId=account, repositoryNames=[name])  # type: ignore[attr-defined]
        except client.exceptions.RepositoryNotFoundException:  # type: ignore[attr-defined]
            client.create_repository(  # type: ignore[attr-defined]
                repositoryName=name, imageScanningConfiguration={"scanOnPush": True}
            )
            created.append(name)
    return created


def login_password(client: object, account: str) -> str:
    """The password half of ECR's base64 `AWS:password` authorization token."""
    data = client.get_authorization_token(registryIds=[account])["authorizationData"]  # type: ignore[attr-defined]
    user, _, password = base64.b64decode(data[0]["authorizationToken"]).decode().partition(":")
    if user != "AWS" or not password:
        raise SystemExit("ecr.py: ECR returned an authorization token in an unknown form")
    return password


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    match = REGISTRY_PATTERN.match(argv[0])
    if not match:
        print(f"ecr.py: {argv[0]!r} is not an ECR registry host", file=sys.stderr)
        return 2
    try:
        import boto3
    except ImportError:
        print("ecr.py: boto3 is missing; pip install 'inferpipe[spec]'", file=sys.stderr)
        return 1
    client = boto3.client("ecr", region_name=match["region"])
    for name in ensure_repositories(client, match["account"], argv[1:]):
        print(f"ecr.py: created repository {name}", file=sys.stderr)
    sys.stdout.write(login_password(client, match["account"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
