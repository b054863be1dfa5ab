declare module 'asl-validator' {
  interface ValidationResult {
    isValid: boolean;
    errors: { message?: string; 'Error code'?: string }[];
    errorsText(separator?: string): string;
  }
  const validator: (
    definition: unknown,
    options?: { checkPaths?: boolean; checkArn?: boolean },
  ) => ValidationResult;
  export = validator;
}
