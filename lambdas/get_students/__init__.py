"""``getStudentData`` (tutorial section 3.1): GET /students."""
