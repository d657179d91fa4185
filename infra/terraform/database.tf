resource "aws_db_subnet_group" "aurora" {
  name        = "${var.name}-aurora"
  description = "Private subnets for the Ticket Watchdog Aurora cluster"
  subnet_ids  = var.private_subnet_ids
}

# Generated at apply time and written only to write-only arguments, so it is
# never in plan or state files. Letters and digits only: it sits in
# DATABASE_URL as is. Bump credentials_version to rotate it.
ephemeral "aws_secretsmanager_random_password" "db" {
  password_length     = 40
  exclude_punctuation = true
}

resource "aws_rds_cluster" "aurora" {
  cluster_identifier = "${var.name}-aurora"
  engine             = "aurora-postgresql"
  engine_mode        = "provisioned"
  engine_version     = var.db_engine_version
  database_name      = var.db_name
  master_username    = var.db_username
  # Write-only: sent when credentials_version changes, never stored.
  master_password_wo         = ephemeral.aws_secretsmanager_random_password.db.random_password
  master_password_wo_version = var.credentials_version

  db_subnet_group_name   = aws_db_subnet_group.aurora.name
  vpc_security_group_ids = [aws_security_group.db.id]
  port                   = 5432

  storage_encrypted = true
  kms_key_id        = var.kms_key_arn == "" ? null : var.kms_key_arn

  backup_retention_period   = var.db_backup_retention_days
  preferred_backup_window   = "03:00-04:00"
  copy_tags_to_snapshot     = true
  deletion_protection       = var.db_deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-aurora-final"

  enabled_cloudwatch_logs_exports = ["postgresql"]

  serverlessv2_scaling_configuration {
    min_capacity = var.db_min_capacity
    max_capacity = var.db_max_capacity
  }
}

resource "aws_rds_cluster_instance" "aurora" {
  count                = var.db_instance_count
  identifier           = "${var.name}-aurora-${count.index}"
  cluster_identifier   = aws_rds_cluster.aurora.id
  instance_class       = "db.serverless"
  engine               = aws_rds_cluster.aurora.engine
  engine_version       = aws_rds_cluster.aurora.engine_version
  db_subnet_group_name = aws_db_subnet_group.aurora.name
  publicly_accessible  = false

  performance_insights_enabled    = true
  performance_insights_kms_key_id = var.kms_key_arn == "" ? null : var.kms_key_arn
}
