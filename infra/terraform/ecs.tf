resource "aws_ecs_cluster" "main" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_task_definition" "api" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.execution.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  container_definitions = jsonencode([
    {
      name                   = local.container_name
      image                  = var.container_image
      essential              = true
      command                = ["serve"]
      readonlyRootFilesystem = true
      stopTimeout            = 30

      portMappings = [
        { containerPort = local.container_port, protocol = "tcp", name = "http", appProtocol = "http" },
      ]

      environment = local.container_environment
      secrets     = local.container_secrets

      healthCheck = {
        command     = ["CMD", "/usr/local/bin/watchdogd", "healthcheck"]
        interval    = 15
        timeout     = 5
        retries     = 3
        startPeriod = 20
      }

      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.api.name
          awslogs-region        = var.aws_region
          awslogs-stream-prefix = "watchdogd"
        }
      }
    },
  ])
}

resource "aws_ecs_service" "api" {
  name                              = var.name
  cluster                           = aws_ecs_cluster.main.id
  task_definition                   = aws_ecs_task_definition.api.arn
  desired_count                     = var.desired_count
  launch_type                       = "FARGATE"
  platform_version                  = "LATEST"
  health_check_grace_period_seconds = 60
  propagate_tags                    = "SERVICE"
  enable_execute_command            = false

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.api.arn
    container_name   = local.container_name
    container_port   = local.container_port
  }

  # The secrets must hold a value before the first task starts.
  depends_on = [
    aws_lb_listener.http,
    aws_secretsmanager_secret_version.database_url,
    aws_secretsmanager_secret_version.slack_webhook_url,
    aws_secretsmanager_secret_version.api_token,
    aws_iam_role_policy.execution,
  ]
}
