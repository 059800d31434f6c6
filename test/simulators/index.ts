// Simulators of the source platforms: test fixtures and demo props, never a
// production path. See README.md in this folder.

export { startOktaSimulator, CLIENT_ASSERTION_TYPE } from './okta.js';
export type { OktaSimulator, OktaSimulatorOptions, OktaTruth, OktaServiceApp, OktaPopulationOptions, OktaPasswordSettings, OktaUserFacts } from './okta.js';

export { startJamfSimulator } from './jamf.js';
export type { JamfSimulator, JamfSimulatorOptions, JamfTruth, JamfApiClient, JamfFleetOptions, JamfComputerFacts } from './jamf.js';

export { startAuditComplySimulator } from './auditcomply.js';
export type { AuditComplySimulator, AuditComplySimulatorOptions, AuditComplyTruth, AuditComplyApiUser, AuditComplyCounts } from './auditcomply.js';

export { startGraphSimulator, GRAPH_PERMISSIONS, GRAPH_CLIENT_ASSERTION_TYPE } from './graph.js';
export type { GraphSimulator, GraphSimulatorOptions, GraphTruth, GraphApp, GraphAppCertificate, GraphUserOptions, GraphDeviceOptions, GraphLicences, ConditionalAccessSetup } from './graph.js';

export { startGitHubSimulator, GITHUB_PERMISSIONS } from './github.js';
export type { GitHubSimulator, GitHubSimulatorOptions, GitHubTruth, GitHubPopulationOptions, GitHubAppRegistration, GitHubInstallation, GitHubPermission, GitHubTokenRegistration } from './github.js';

export type { Fault, FaultTarget } from './common/faults.js';
export type { RateLimitOptions, ThrottleEvent } from './common/rate-limit.js';
export type { RequestLogEntry, SimulatorServer } from './common/server.js';

// Simulators of the destination platforms (README.md, "Destination-platform simulators").
export { startAudigydSimulator, AUDIGYD_DEFAULT_ASSESSMENTS } from './audigyd.js';
export type {
  AudigydSimulator,
  AudigydSimulatorOptions,
  AudigydApiKey,
  AudigydAssessment,
  AudigydAssessmentFixture,
  AudigydAssessmentStatus,
  AudigydSectionFixture,
  AudigydQuestionFixture,
  AudigydQuestion,
  AudigydEvidenceItem,
  EvidenceResult,
  UploadedFile,
} from './audigyd.js';

export { startAuditdexSimulator, AUDITDEX_DEFAULT_ENGAGEMENTS, AUDITDEX_PLANS, AUDITDEX_SCOPES } from './auditdex.js';
export type {
  AuditdexSimulator,
  AuditdexSimulatorOptions,
  AuditdexClient,
  AuditdexEngagement,
  AuditdexEngagementFixture,
  AuditdexEngagementStatus,
  AuditdexControlFixture,
  AuditdexEvidenceItem,
} from './auditdex.js';
