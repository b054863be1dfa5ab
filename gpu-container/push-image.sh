#!/usr/bin/env bash
# Builds the worker image, pushes it to the stack's ECR repository under the current commit's
# tag, and redeploys so that the Batch job definition runs that tag.
#
#   gpu-container/push-image.sh --stage dev [--region us-east-1] [-- extra serverless deploy args]
#
# Needs: AWS credentials, Docker with BuildKit, a deployed stack (the first `serverless deploy`
# creates the repository). Extra arguments after `--` go to `serverless deploy` (e.g. the
# --param="subnetIds=…" you deployed with).
set -euo pipefail
cd "$(dirname "$0")/.."

stage=dev
region=${AWS_REGION:-us-east-1}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --stage) stage=$2; shift 2 ;;
    --region) region=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

stack="longtail-${stage}"
repository=$(aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
  --query "Stacks[0].Outputs[?OutputKey=='WorkerRepositoryUri'].OutputValue" --output text)
if [[ -z "$repository" || "$repository" == "None" ]]; then
  echo "Stack $stack has no WorkerRepositoryUri output: deploy it first (npx serverless deploy --stage $stage)." >&2
  exit 1
fi

# A clean tree gets the commit id; uncommitted changes get a timestamp too, so tags never lie.
tag=$(git rev-parse --short=12 HEAD)
if [[ -n "$(git status --porcelain)" ]]; then tag="${tag}-dirty-$(date -u +%Y%m%d%H%M%S)"; fi

echo "Building ${repository}:${tag}"
docker build --platform linux/amd64 -f gpu-container/Dockerfile \
  --build-arg VERSION="$(node -p "require('./package.json').version")" \
  --build-arg REVISION="$(git rev-parse HEAD)" \
  -t "${repository}:${tag}" .

aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "${repository%%/*}"
docker push "${repository}:${tag}"

echo "Deploying stage ${stage} with workerImageTag=${tag}"
SLS_TELEMETRY_DISABLED=1 npx serverless deploy --stage "$stage" --region "$region" \
  --param="workerImageTag=${tag}" "$@"

cat <<TXT

Pushed ${repository}:${tag} and pointed the job definition at it.
First run on a new GPU instance: submit a Batch job with command ["--self-check"] on the job
definition, or on the instance: docker run --gpus all -e LONGTAIL_EXECUTION_PROVIDER=cuda ${repository}:${tag} --self-check
TXT
