/**
 * Resolves the CloudFormation intrinsics serverless-step-functions accepts inside an ASL file
 * (`{ "Ref": X }`, `{ "Fn::GetAtt": [X, "Arn"] }`) to the local runtime's ARNs and names, so
 * that the local Step Functions executes the very file the deployment uses.
 */
export type ResourceResolver = (logicalId: string, attribute?: string) => string;

export const resolveIntrinsics = (value: unknown, resolver: ResourceResolver): unknown => {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, resolver));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [[key, argument]] = entries as [[string, unknown]];
      if (key === 'Ref' && typeof argument === 'string') return resolver(argument);
      if (key === 'Fn::GetAtt' && Array.isArray(argument))
        return resolver(String(argument[0]), String(argument[1]));
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, resolveIntrinsics(item, resolver)]));
  }
  return value;
};
