"""``BackupDynamoDBAndSendEmail`` (tutorial sections 3.3 and 8): POST /backup and the daily schedule."""
