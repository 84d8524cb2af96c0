"""``insertStudentData`` (tutorial section 3.2): POST /students."""
