"""inferpipe's stand-in for AWS's `sagemaker_containers`, for users' serving scripts.

Only `sagemaker_containers.beta.framework` and the serving names scripts touch
(`content_types`, `encoders`, `errors`, `env`, `worker`); npy is never loaded with pickle.
"""
