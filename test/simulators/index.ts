// Simulators of the source platforms: test fixtures and demo props, never a
// production path. See README.md in this folder.

export { startOktaSimulator, CLIENT_ASSERTION_TYPE } from './okta.js';
export type { OktaSimulator, OktaSimulatorOptions, OktaTruth, OktaServiceApp, OktaPopulationOptions, OktaPasswordSettings, OktaUserFacts } from './okta.js';

export { startJamfSimulator } from './jamf.js';
export type { JamfSimulator, JamfSimulatorOptions, JamfTruth, JamfApiClient, JamfFleetOptions, JamfComputerFacts } from './jamf.js';

export { startAuditComplySimulator } from './auditcomply.js';
export type { AuditComplySimulator, AuditComplySimulatorOptions, AuditComplyTruth, AuditComplyApiUser, AuditComplyCounts } from './auditcomply.js';

export type { Fault, FaultTarget } from './common/faults.js';
export type { RateLimitOptions, ThrottleEvent } from './common/rate-limit.js';
export type { RequestLogEntry, SimulatorServer } from './common/server.js';
