output "alb_dns_name" {
  description = "DNS name of the load balancer; the API is at http(s)://<this>/."
  value       = aws_lb.api.dns_name
}

output "api_url" {
  description = "Base URL of the API (WATCHDOG_PUBLIC_URL)."
  value       = local.public_url
}

output "cluster_name" {
  description = "ECS cluster name."
  value       = aws_ecs_cluster.main.name
}

output "service_name" {
  description = "ECS service name."
  value       = aws_ecs_service.api.name
}

output "log_group_name" {
  description = "CloudWatch log group of the tasks."
  value       = aws_cloudwatch_log_group.api.name
}

output "db_endpoint" {
  description = "Aurora writer endpoint (reachable from the tasks' security group only)."
  value       = aws_rds_cluster.aurora.endpoint
}

output "api_token_secret_arn" {
  description = "Secrets Manager ARN of WATCHDOG_API_TOKEN; read it with `aws secretsmanager get-secret-value --secret-id <arn>`."
  value       = aws_secretsmanager_secret.api_token.arn
}

output "database_url_secret_arn" {
  description = "Secrets Manager ARN of DATABASE_URL."
  value       = aws_secretsmanager_secret.database_url.arn
}
