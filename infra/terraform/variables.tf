variable "name" {
  description = "Name prefix for every resource (cluster, service, load balancer, database, secrets)."
  type        = string
  default     = "ticket-watchdog"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name))
    error_message = "name must be 3-24 characters of lower-case letters, digits and hyphens, starting with a letter (load balancer and target group names are limited to 32 characters)."
  }
}

variable "aws_region" {
  description = "AWS region to deploy into, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like an AWS region name, e.g. us-east-1."
  }
}

variable "tags" {
  description = "Extra tags applied to every resource."
  type        = map(string)
  default     = {}
}

variable "vpc_id" {
  description = "ID of the existing VPC to deploy into."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must be a VPC ID such as vpc-0123456789abcdef0."
  }
}

variable "public_subnet_ids" {
  description = "Public subnets (at least two, in different availability zones) for the internet-facing load balancer."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2 && alltrue([for s in var.public_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "public_subnet_ids must list at least two subnet IDs (subnet-...)."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets (at least two, in different availability zones) for the tasks and the database. They need outbound internet (NAT) or VPC endpoints for ECR, Secrets Manager, CloudWatch Logs and Slack."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2 && alltrue([for s in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "private_subnet_ids must list at least two subnet IDs (subnet-...)."
  }
}

variable "allowed_ingress_cidrs" {
  description = "CIDR blocks allowed to reach the load balancer on HTTP/HTTPS."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.allowed_ingress_cidrs) > 0 && alltrue([for c in var.allowed_ingress_cidrs : can(cidrhost(c, 0))])
    error_message = "allowed_ingress_cidrs must be a non-empty list of valid CIDR blocks."
  }
}

variable "certificate_arn" {
  description = "ACM certificate ARN for the HTTPS listener. When set, HTTP redirects to HTTPS; when empty, the API is served on plain HTTP (not for production)."
  type        = string
  default     = ""

  validation {
    condition     = var.certificate_arn == "" || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", var.certificate_arn))
    error_message = "certificate_arn must be empty or an ACM certificate ARN."
  }
}

variable "container_image" {
  description = "watchdogd image reference with a tag or digest, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/watchdogd:1.0.0."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._/:-]*[a-z0-9](:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$", var.container_image)) && !endswith(var.container_image, ":latest")
    error_message = "container_image must name a tag or digest (not :latest) so deployments are repeatable."
  }
}

variable "ecr_repository_arn" {
  description = "ARN of the ECR repository holding container_image; the execution role may pull from it only. Empty when the image is in a public registry."
  type        = string
  default     = ""

  validation {
    condition     = var.ecr_repository_arn == "" || can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", var.ecr_repository_arn))
    error_message = "ecr_repository_arn must be empty or an ECR repository ARN."
  }
}

variable "desired_count" {
  description = "Number of watchdogd tasks. Several can run at once: the Postgres store shares due tickets and deliveries between replicas."
  type        = number
  default     = 2

  validation {
    condition     = var.desired_count >= 1 && var.desired_count <= 50 && floor(var.desired_count) == var.desired_count
    error_message = "desired_count must be a whole number from 1 to 50."
  }
}

variable "task_cpu" {
  description = "Fargate task CPU units (256 = 0.25 vCPU)."
  type        = number
  default     = 512

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.task_cpu)
    error_message = "task_cpu must be one of 256, 512, 1024, 2048, 4096."
  }
}

variable "task_memory" {
  description = "Fargate task memory in MiB; must be a combination Fargate allows for task_cpu."
  type        = number
  default     = 1024

  validation {
    condition     = var.task_memory >= 512 && var.task_memory <= 30720 && var.task_memory % 512 == 0
    error_message = "task_memory must be a multiple of 512 MiB between 512 and 30720."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the image: X86_64 or ARM64 (Graviton)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the service's logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention period CloudWatch Logs supports (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "log_level" {
  description = "watchdogd LOG_LEVEL: debug, info, warn or error."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "scheduler_interval_minutes" {
  description = "SCHEDULER_INTERVAL_MINUTES: minutes between safety-net sweeps (alerts fire at their due instants regardless)."
  type        = number
  default     = 1

  validation {
    condition     = var.scheduler_interval_minutes >= 1 && var.scheduler_interval_minutes <= 60 && floor(var.scheduler_interval_minutes) == var.scheduler_interval_minutes
    error_message = "scheduler_interval_minutes must be a whole number from 1 to 60."
  }
}

variable "alert_threshold" {
  description = "ALERT_THRESHOLD: fraction of an SLA target at which the alert stage fires."
  type        = number
  default     = 0.85

  validation {
    condition     = var.alert_threshold > 0 && var.alert_threshold < 1
    error_message = "alert_threshold must be between 0 and 1 (exclusive)."
  }
}

variable "breach_threshold" {
  description = "BREACH_THRESHOLD: fraction of an SLA target at which the breach stage fires."
  type        = number
  default     = 1.0

  validation {
    condition     = var.breach_threshold > 0 && var.breach_threshold <= 10
    error_message = "breach_threshold must be greater than 0 and at most 10."
  }
}

variable "slack_webhook_url" {
  description = "Slack incoming-webhook URL. Ephemeral: written to Secrets Manager only, never to plan or state. Pass it as TF_VAR_slack_webhook_url."
  type        = string
  sensitive   = true
  ephemeral   = true

  validation {
    condition     = can(regex("^https://", var.slack_webhook_url))
    error_message = "slack_webhook_url must be an https:// URL."
  }
}

variable "slack_channel" {
  description = "SLACK_CHANNEL for chat.postMessage delivery; empty when only the webhook is used."
  type        = string
  default     = ""

  validation {
    condition     = length(var.slack_channel) <= 80
    error_message = "slack_channel must be at most 80 characters."
  }
}

variable "allowed_origins" {
  description = "WATCHDOG_ALLOWED_ORIGINS: comma-separated origin patterns allowed to open the WebSocket; empty allows same-origin only."
  type        = string
  default     = ""

  validation {
    condition     = !can(regex("\\s", var.allowed_origins))
    error_message = "allowed_origins must be comma-separated without spaces."
  }
}

variable "public_url" {
  description = "WATCHDOG_PUBLIC_URL: the address clients use to reach the API (e.g. https://watchdog.example.com behind a DNS name of your own). Empty means the load balancer's own URL. The API answers only this host, loopback names and IP addresses; Slack messages link tickets under it."
  type        = string
  default     = ""

  validation {
    condition     = var.public_url == "" || can(regex("^https?://[^/@]+", var.public_url))
    error_message = "public_url must be empty or an http(s) URL with a host."
  }
}

variable "db_engine_version" {
  description = "Aurora PostgreSQL engine version."
  type        = string
  default     = "15.8"

  validation {
    condition     = can(regex("^1[3-7]\\.[0-9]+$", var.db_engine_version))
    error_message = "db_engine_version must be an Aurora PostgreSQL version such as 15.8 (13 to 17)."
  }
}

variable "db_name" {
  description = "Name of the database watchdogd uses."
  type        = string
  default     = "watchdog"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_name))
    error_message = "db_name must start with a letter and hold only lower-case letters, digits and underscores (at most 63)."
  }
}

variable "db_username" {
  description = "Master user name of the Aurora cluster."
  type        = string
  default     = "watchdog"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,15}$", var.db_username)) && !contains(["admin", "postgres", "rdsadmin"], var.db_username)
    error_message = "db_username must be 1-16 lower-case letters, digits or underscores, start with a letter, and not be a reserved name."
  }
}

variable "db_instance_count" {
  description = "Number of Aurora instances (1 writer plus readers for failover)."
  type        = number
  default     = 2

  validation {
    condition     = var.db_instance_count >= 1 && var.db_instance_count <= 15 && floor(var.db_instance_count) == var.db_instance_count
    error_message = "db_instance_count must be a whole number from 1 to 15."
  }
}

variable "db_min_capacity" {
  description = "Aurora Serverless v2 minimum capacity in ACUs."
  type        = number
  default     = 0.5

  validation {
    condition     = var.db_min_capacity >= 0.5 && var.db_min_capacity <= 256
    error_message = "db_min_capacity must be between 0.5 and 256 ACUs."
  }
}

variable "db_max_capacity" {
  description = "Aurora Serverless v2 maximum capacity in ACUs (must not be below db_min_capacity)."
  type        = number
  default     = 4

  validation {
    condition     = var.db_max_capacity >= 1 && var.db_max_capacity <= 256
    error_message = "db_max_capacity must be between 1 and 256 ACUs."
  }
}

variable "db_backup_retention_days" {
  description = "Days Aurora keeps automated backups."
  type        = number
  default     = 7

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be from 1 to 35."
  }
}

variable "db_deletion_protection" {
  description = "Protect the Aurora cluster from deletion; set false only to tear down a test stack."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key ARN for the database and secrets; empty uses the AWS-managed keys."
  type        = string
  default     = ""

  validation {
    condition     = var.kms_key_arn == "" || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be empty or a KMS key ARN."
  }
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can be restored; 0 deletes at once (test stacks only)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or from 7 to 30."
  }
}

variable "slack_webhook_url_version" {
  description = "Version of the Slack webhook secret; Terraform writes slack_webhook_url to Secrets Manager only when this changes (first apply included)."
  type        = number
  default     = 1

  validation {
    condition     = var.slack_webhook_url_version >= 1 && floor(var.slack_webhook_url_version) == var.slack_webhook_url_version
    error_message = "slack_webhook_url_version must be a whole number of at least 1."
  }
}

variable "credentials_version" {
  description = "Version of the generated database password and API token; bump it to rotate both (then force a new ECS deployment so tasks read the new DATABASE_URL)."
  type        = number
  default     = 1

  validation {
    condition     = var.credentials_version >= 1 && floor(var.credentials_version) == var.credentials_version
    error_message = "credentials_version must be a whole number of at least 1."
  }
}
