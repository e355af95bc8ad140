"""Everything about the AWS account: rule facts without boto3 (account), the boto3 client and
its errors, needed vs existing rules, the rules workflow (assess), plan emitters, repository
creation templates, the role that pulls, and `warm`."""
