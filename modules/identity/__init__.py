"""Who signs in and who sends mail: the staff directory, and the SES identities (tutorial section 2.5)."""
