terraform {
  # 1.11: ephemeral resources and write-only arguments keep generated
  # passwords and the Slack webhook out of plan and state files.
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge(var.tags, {
      Application = "ticket-watchdog"
      Name        = var.name
    })
  }
}
