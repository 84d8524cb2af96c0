"""Building blocks the other constructs share: IAM documents, the secure bucket, lifecycle rules, scratch dirs."""
