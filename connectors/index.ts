import { ConnectorRegistry } from './registry.js';
import { agentauditConnector, agentauditDestination } from './agentaudit/index.js';
import { auditcomplyConnector } from './auditcomply/index.js';
import { audigydConnector } from './audigyd/index.js';
import { auditdexConnector } from './auditdex/index.js';
import { awsConnector, type AwsOptions } from './aws/index.js';
import { complianceagentConnector } from './complianceagent/index.js';
import { entraConnector } from './entra/index.js';
import { githubConnector } from './github/index.js';
import { httpConnector } from './http/index.js';
import { intuneConnector } from './intune/index.js';
import { jamfConnector } from './jamf/index.js';
import { oktaConnector } from './okta/index.js';
import { pushConnector } from './push/index.js';

/** Every connector the hub ships. Add a connector by adding its folder and one entry here. */
export function builtInConnectors(options: { aws?: AwsOptions } = {}): ConnectorRegistry {
  return new ConnectorRegistry([oktaConnector, awsConnector(options.aws ?? { allowAmbientCredentials: false }), jamfConnector, auditcomplyConnector, agentauditConnector, complianceagentConnector, entraConnector, intuneConnector, githubConnector, httpConnector, pushConnector], [audigydConnector, auditdexConnector, agentauditDestination]);
}
