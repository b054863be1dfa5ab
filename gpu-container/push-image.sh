#!/usr/bin/env bash
# Builds the worker image, pushes it to the stack's ECR repository under the current commit's
# tag, records that tag in Parameter Store, and updates the stack so that the Batch job
# definition runs it. It is the only thing that changes the worker image: `serverless deploy`
# reads the tag from Parameter Store every time, so a later deploy keeps this image.
#
#   gpu-container/push-image.sh --stage dev [--region us-east-1]
#
# Needs: AWS credentials, Docker with BuildKit, a deployed stack (the first `serverless deploy`
# creates the repository and the parameter).
set -euo pipefail
cd "$(dirname "$0")/.."

stage=dev
region=${AWS_REGION:-us-east-1}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --stage) stage=$2; shift 2 ;;
    --region) region=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

stack="longtail-${stage}"
output() {
  aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
repository=$(output WorkerRepositoryUri)
parameter=$(output WorkerImageTagParameterName)
if [[ -z "$repository" || "$repository" == "None" || -z "$parameter" || "$parameter" == "None" ]]; then
  echo "Stack $stack has no WorkerRepositoryUri or WorkerImageTagParameterName output:" >&2
  echo "deploy it first (README: Deploy, step 2)." >&2
  exit 1
fi

# A clean tree gets the commit id; uncommitted changes get a timestamp too, so tags never lie.
# The repository's tags are immutable: a tag, once pushed, always names the same image.
tag=$(git rev-parse --short=12 HEAD)
if [[ -n "$(git status --porcelain)" ]]; then tag="${tag}-dirty-$(date -u +%Y%m%d%H%M%S)"; fi

if aws ecr describe-images --region "$region" --repository-name "${repository#*/}" \
  --image-ids imageTag="$tag" >/dev/null 2>&1; then
  echo "${repository}:${tag} is already pushed; not building it again"
else
  echo "Building ${repository}:${tag}"
  docker build --platform linux/amd64 -f gpu-container/Dockerfile \
    --build-arg VERSION="$(node -p "require('./package.json').version")" \
    --build-arg REVISION="$(git rev-parse HEAD)" \
    -t "${repository}:${tag}" .
  aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "${repository%%/*}"
  docker push "${repository}:${tag}"
fi

# Only now that the image is in the repository does the tag point at it.
aws ssm put-parameter --region "$region" --name "$parameter" --type String --value "$tag" --overwrite >/dev/null
echo "Set ${parameter} = ${tag}"

# The same template: CloudFormation reads the parameter again, and only the job definition
# changes. (`serverless deploy` would do the same, with the deploy parameters to pass again.)
update_output=$(aws cloudformation update-stack --region "$region" --stack-name "$stack" \
  --use-previous-template --capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM \
  --parameters ParameterKey=WorkerImageTag,UsePreviousValue=true 2>&1) || {
  if grep -q 'No updates are to be performed' <<<"$update_output"; then
    echo "The job definition already runs ${tag}."
  else
    echo "$update_output" >&2
    exit 1
  fi
}
if [[ "$update_output" != *"No updates are to be performed"* ]]; then
  echo "Updating stack ${stack} so that the job definition runs ${tag}"
  aws cloudformation wait stack-update-complete --region "$region" --stack-name "$stack"
fi

cat <<TXT

Pushed ${repository}:${tag} and pointed the job definition at it.
First run on a new GPU instance: submit a Batch job with command ["--self-check"] on the job
definition, or on the instance: docker run --gpus all -e LONGTAIL_EXECUTION_PROVIDER=cuda ${repository}:${tag} --self-check
TXT
