"""SageMaker's environment variable and HTTP header names, each spelled once.

https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-inference-code.html
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html
"""

from __future__ import annotations

# Environment variables the platform (or the spec builder) sets on a container.
BIND_TO_PORT = "SAGEMAKER_BIND_TO_PORT"
SAFE_PORT_RANGE = "SAGEMAKER_SAFE_PORT_RANGE"
MODEL_SERVER_WORKERS = "SAGEMAKER_MODEL_SERVER_WORKERS"
MODEL_SERVER_TIMEOUT = "SAGEMAKER_MODEL_SERVER_TIMEOUT"
DEFAULT_INVOCATIONS_ACCEPT = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"
CONTAINER_LOG_LEVEL = "SAGEMAKER_CONTAINER_LOG_LEVEL"
PROGRAM = "SAGEMAKER_PROGRAM"
SUBMIT_DIRECTORY = "SAGEMAKER_SUBMIT_DIRECTORY"
SPARKML_SCHEMA = "SAGEMAKER_SPARKML_SCHEMA"
BATCH = "SAGEMAKER_BATCH"
MAX_PAYLOAD_IN_MB = "SAGEMAKER_MAX_PAYLOAD_IN_MB"
BATCH_STRATEGY = "SAGEMAKER_BATCH_STRATEGY"
MAX_CONCURRENT_TRANSFORMS = "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS"

# inferpipe's own variables.
STAGE = "INFERPIPE_STAGE"
MODEL_DIR = "INFERPIPE_MODEL_DIR"
WORKER_THREADS = "INFERPIPE_WORKER_THREADS"
NUMERIC_THREADS = "INFERPIPE_NUMERIC_THREADS"
#: The numeric libraries' own thread-count variables (OpenMP, OpenBLAS, MKL).
NUMERIC_LIBRARY_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
SKLEARN_METHOD = "INFERPIPE_SKLEARN_METHOD"
FAST_PATH = "INFERPIPE_FAST_PATH"
INSTALL_REQUIREMENTS = "INFERPIPE_INSTALL_REQUIREMENTS"
ARTIFACT_SHA256 = "INFERPIPE_ARTIFACT_SHA256"
HOST = "INFERPIPE_HOST"
REQUEST_READ_TIMEOUT = "INFERPIPE_REQUEST_READ_TIMEOUT"

#: The script a script stage runs when SAGEMAKER_PROGRAM is unset.
DEFAULT_PROGRAM = "inference.py"

# InvokeEndpoint request and response headers (HTTP header names are case-blind;
# these are the spellings AWS documents).
CONTENT_TYPE = "Content-Type"
ACCEPT = "Accept"
CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"
INFERENCE_ID = "X-Amzn-SageMaker-Inference-Id"
TARGET_VARIANT = "X-Amzn-SageMaker-Target-Variant"
TARGET_CONTAINER_HOSTNAME = "X-Amzn-SageMaker-Target-Container-Hostname"
INVOKED_PRODUCTION_VARIANT = "x-Amzn-Invoked-Production-Variant"
ERROR_TYPE = "x-amzn-ErrorType"
REQUEST_ID = "X-Amzn-RequestId"
