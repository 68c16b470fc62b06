"""inferpipe's stand-in for AWS's `sagemaker_inference` toolkit, for users' scripts.

Only the names inference scripts touch: `content_types`, `decoder`, `encoder`,
`errors`, `environment`, `utils`. npy is never loaded with pickle.
"""
