import type { RouteSpec } from '../route.js';
import { buildConnector, connectorZip } from '../power-automate/connector.js';

export interface IntegrationDeps {
  /** The hub's routes, read when the connector is asked for (the list is final by then). */
  routes: () => RouteSpec[];
  publicUrl: string | null;
  version: string;
}

/** Integrations built from the hub's own route declarations: the Power Automate custom connector. */
export function integrationRoutes(deps: IntegrationDeps): RouteSpec[] {
  return [
    {
      method: 'get', path: '/api/v1/integrations/power-automate/connector.zip', operationId: 'getPowerAutomateConnector', tag: 'integrations', auth: 'admin',
      summary: 'The Power Automate custom connector as a ZIP: apiDefinition.swagger.json, apiProperties.json and icon.png.',
      description: 'Generated from the same route declarations as this document. Its host and basePath come from HUB_PUBLIC_URL, else from the host this request was sent to. `npx evidence-hub power-automate export --out <dir>` writes the same files.',
      responses: {
        200: {
          description: 'The ZIP (application/zip).', contentType: 'application/zip',
          headers: { 'Content-Disposition': 'attachment; filename="evidence-hub-power-automate.zip"' },
        },
      },
      handler: async (req, res) => {
        const publicUrl = deps.publicUrl ?? `${req.protocol}://${req.get('host')}`;
        const zip = await connectorZip(buildConnector(deps.routes(), { publicUrl, version: deps.version }));
        res.status(200).type('application/zip').setHeader('Content-Disposition', 'attachment; filename="evidence-hub-power-automate.zip"');
        res.send(zip);
      },
    },
  ];
}
