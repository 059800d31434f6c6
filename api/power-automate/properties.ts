/** The connector's brand colour: the icon's background, and `iconBrandColor` (never white). */
export const BRAND_COLOR = '#1f5fa8';

/**
 * The connector's `apiProperties.json`: the API key as a secure connection parameter (its name
 * is the Swagger security definition's, `api_key`), the brand colour, the capabilities, and
 * who publishes and runs the service behind it.
 */
export function buildApiProperties(): Record<string, unknown> {
  return {
    properties: {
      connectionParameters: {
        api_key: {
          type: 'securestring',
          uiDefinition: {
            displayName: 'API key',
            description: 'An Evidence Hub API key (ehk_…) with the scopes your flows need.',
            tooltip: 'Create one in the hub console under API keys, with the narrowest scopes that suffice.',
            constraints: { tabIndex: 2, clearText: false, required: 'true' },
          },
        },
      },
      iconBrandColor: BRAND_COLOR,
      capabilities: ['actions'],
      publisher: 'Evidence Hub',
      stackOwner: 'Evidence Hub',
      policyTemplateInstances: [],
    },
  };
}
