"""Resolve built-in algorithm images to regional ECR URIs, and read ECR image URIs back.

https://docs.aws.amazon.com/sagemaker/latest/dg-ecr-paths/sagemaker-algo-docker-registry-paths.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inferpipe.pipeline_spec.builtin_registry import ALGORITHMS
from inferpipe.protocol import media

ECR_URI = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\."
    r"(?P<domain>amazonaws\.com(?:\.cn)?|c2s\.ic\.gov|sc2s\.sgov\.gov|csp\.hci\.ic\.gov)"
    r"/(?P<repository>[a-z0-9._/-]+)(?::(?P<tag>[\w.-]+)|@(?P<digest>sha256:[0-9a-f]{64}))?$"
)

#: What each built-in's inference container takes and returns (its documented types).
BUILTIN_MEDIA: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "xgboost": ((media.CSV, media.LIBSVM), (media.CSV, media.JSON, media.JSONLINES)),
    "linear-learner": (
        (media.CSV, media.JSON, "application/x-recordio-protobuf"),
        (media.JSON, media.JSONLINES, "application/x-recordio-protobuf"),
    ),
    "sparkml-serving": ((media.CSV, media.JSON, media.JSONLINES), (media.CSV, media.JSONLINES)),
}
INFERPIPE_MEDIA = (
    (media.CSV, media.JSON, media.JSONLINES, media.NPY),
    (media.CSV, media.JSON, media.JSONLINES, media.NPY),
)


@dataclass(frozen=True)
class EcrImage:
    account: str
    region: str
    repository: str
    tag: str | None


def partition_domain(region: str) -> str:
    """The DNS suffix of a region's partition (China, the ISO partitions, or standard)."""
    if region.startswith("cn-"):
        return "amazonaws.com.cn"
    for prefix, domain in (
        ("us-isob-", "sc2s.sgov.gov"),
        ("us-isof-", "csp.hci.ic.gov"),
        ("us-iso-", "c2s.ic.gov"),
    ):
        if region.startswith(prefix):
            return domain
    return "amazonaws.com"


def builtin_image_uri(algorithm: str, version: str, region: str) -> str:
    """The image URI of a built-in algorithm; raises ValueError naming what is known."""
    if algorithm not in ALGORITHMS:
        raise ValueError(
            f"unknown built-in algorithm {algorithm!r}; known: {', '.join(sorted(ALGORITHMS))}"
        )
    repository, accounts, regions, tags = ALGORITHMS[algorithm]
    if version not in tags:
        raise ValueError(f"{algorithm} has no version {version!r}; known: {', '.join(tags)}")
    if region not in accounts or (regions is not None and region not in regions):
        available = sorted(regions if regions is not None else accounts)
        raise ValueError(
            f"{algorithm} is not published in {region}; regions: {', '.join(available)}"
        )
    host = f"{accounts[region]}.dkr.ecr.{region}.{partition_domain(region)}"
    return f"{host}/{repository}:{tags[version]}"


def parse_ecr_uri(uri: str) -> EcrImage | None:
    """Split an ECR image URI, or None for images elsewhere (Docker Hub, a private registry)."""
    match = ECR_URI.match(uri)
    if not match:
        return None
    return EcrImage(match["account"], match["region"], match["repository"], match["tag"])


def repository_name(uri: str) -> str:
    """The last path part of an image URI, without tag or digest ('inferpipe-preprocess')."""
    return uri.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]


def is_inferpipe_image(uri: str) -> bool:
    """True for inferpipe's own images (their repositories are named inferpipe-*)."""
    return repository_name(uri).startswith("inferpipe-")
