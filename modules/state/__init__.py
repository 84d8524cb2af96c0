"""The Terraform state bucket, the bootstrap stack's one resource (the remote S3 backend)."""
