terraform {
  required_version = "1.7.4"
  backend "s3" {
    bucket         = "fintech-prod-tfstate"
    key            = "payments/prod/terraform.tfstate"
    region         = "us-east-1"
    dynamodb_table = "tf-locks"
    encrypt        = true
  }
}

variable "node_desired_size" {
  type = number
}

module "eks" {
  source            = "./modules/eks"
  node_desired_size = var.node_desired_size
}
