# Secret values live in Secrets Manager and reach the container through the
# task definition's `secrets` (valueFrom), never its `environment`. They are
# written with write-only arguments from ephemeral values, so neither the
# plan nor the state holds them; Terraform sends them again only when the
# matching *_version variable changes.

resource "aws_secretsmanager_secret" "database_url" {
  name                    = "${var.name}/DATABASE_URL"
  description             = "Ticket Watchdog DATABASE_URL for the Aurora cluster (with password, sslmode=require)"
  kms_key_id              = var.kms_key_arn == "" ? null : var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "database_url" {
  secret_id = aws_secretsmanager_secret.database_url.id
  secret_string_wo = format(
    "postgres://%s:%s@%s:%d/%s?sslmode=require",
    urlencode(var.db_username),
    urlencode(ephemeral.aws_secretsmanager_random_password.db.random_password),
    aws_rds_cluster.aurora.endpoint,
    aws_rds_cluster.aurora.port,
    var.db_name,
  )
  secret_string_wo_version = var.credentials_version
}

resource "aws_secretsmanager_secret" "slack_webhook_url" {
  name                    = "${var.name}/SLACK_WEBHOOK_URL"
  description             = "Ticket Watchdog Slack incoming-webhook URL"
  kms_key_id              = var.kms_key_arn == "" ? null : var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "slack_webhook_url" {
  secret_id                = aws_secretsmanager_secret.slack_webhook_url.id
  secret_string_wo         = var.slack_webhook_url
  secret_string_wo_version = var.slack_webhook_url_version
}

ephemeral "aws_secretsmanager_random_password" "api_token" {
  password_length     = 48
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "api_token" {
  name                    = "${var.name}/WATCHDOG_API_TOKEN"
  description             = "Bearer token clients send to the Ticket Watchdog API"
  kms_key_id              = var.kms_key_arn == "" ? null : var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "api_token" {
  secret_id                = aws_secretsmanager_secret.api_token.id
  secret_string_wo         = ephemeral.aws_secretsmanager_random_password.api_token.random_password
  secret_string_wo_version = var.credentials_version
}
