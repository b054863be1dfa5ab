// Serverless creates its shared Lambda role (IamRoleLambdaExecution) even when every function
// has a role of its own (serverless-iam-roles-per-function), and gives it the SQS permissions of
// the event sources. Nothing assumes it then, but it is a standing grant: remove it when no
// resource refers to it.
class DropUnusedDefaultRole {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.dropIfUnused() };
  }

  dropIfUnused() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const roleId = 'IamRoleLambdaExecution';
    if (!template.Resources[roleId]) return;
    const { [roleId]: _role, ...others } = template.Resources;
    const referenced = JSON.stringify({ ...template, Resources: others }).includes(`"${roleId}"`);
    if (!referenced) delete template.Resources[roleId];
  }
}

module.exports = DropUnusedDefaultRole;
