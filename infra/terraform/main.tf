data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  container_name = "watchdogd"
  container_port = 8000
  https_enabled  = var.certificate_arn != ""
  # The address clients use: the API answers only this host (besides
  # loopback names and IP addresses for health checks), against DNS
  # rebinding, and Slack messages link tickets under it.
  public_url = var.public_url != "" ? var.public_url : "${local.https_enabled ? "https" : "http"}://${aws_lb.api.dns_name}"

  # Plain, non-secret settings. Every name here must be one watchdogd reads
  # (internal/config.Env); secrets go in local.container_secrets only.
  container_environment = [
    { name = "API_HOST", value = "0.0.0.0" },
    { name = "API_PORT", value = tostring(local.container_port) },
    { name = "SLA_CONFIG_PATH", value = "/etc/watchdog/sla_config.yaml" },
    { name = "SCHEDULER_INTERVAL_MINUTES", value = tostring(var.scheduler_interval_minutes) },
    { name = "ALERT_THRESHOLD", value = tostring(var.alert_threshold) },
    { name = "BREACH_THRESHOLD", value = tostring(var.breach_threshold) },
    { name = "LOG_LEVEL", value = var.log_level },
    { name = "SLACK_CHANNEL", value = var.slack_channel },
    { name = "WATCHDOG_ALLOWED_ORIGINS", value = var.allowed_origins },
    { name = "WATCHDOG_PUBLIC_URL", value = local.public_url },
  ]

  # Injected by ECS from Secrets Manager at task start; the values never
  # appear in the task definition.
  container_secrets = [
    { name = "DATABASE_URL", valueFrom = aws_secretsmanager_secret.database_url.arn },
    { name = "SLACK_WEBHOOK_URL", valueFrom = aws_secretsmanager_secret.slack_webhook_url.arn },
    { name = "WATCHDOG_API_TOKEN", valueFrom = aws_secretsmanager_secret.api_token.arn },
  ]

  secret_arns = [
    aws_secretsmanager_secret.database_url.arn,
    aws_secretsmanager_secret.slack_webhook_url.arn,
    aws_secretsmanager_secret.api_token.arn,
  ]
}
