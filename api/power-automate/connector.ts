import yazl from 'yazl';
import type { RouteSpec } from '../route.js';
import { buildIcon } from './icon.js';
import { buildApiProperties } from './properties.js';
import { buildSwagger, connectorTarget } from './swagger.js';

/** The three files Power Automate imports, by their names (docs/DESIGN names them). */
export const CONNECTOR_FILES = ['apiDefinition.swagger.json', 'apiProperties.json', 'icon.png'] as const;
export type ConnectorFiles = Record<(typeof CONNECTOR_FILES)[number], Buffer>;

/**
 * Every entry of the ZIP carries this time, so that two exports are the same bytes. A ZIP's DOS
 * time is local wall-clock time: the date is made from local fields (the same fields in every
 * time zone), and no UTC extended-timestamp field is written.
 */
const FIXED_MTIME = new Date(2024, 0, 1, 0, 0, 0);

const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);

/**
 * The custom connector for the hub at `publicUrl` (HUB_PUBLIC_URL, or the URL the hub was
 * reached at), generated from the route declarations.
 */
export function buildConnector(routes: RouteSpec[], options: { publicUrl: string; version: string }): ConnectorFiles {
  return {
    'apiDefinition.swagger.json': json(buildSwagger(routes, { version: options.version, target: connectorTarget(options.publicUrl) })),
    'apiProperties.json': json(buildApiProperties()),
    'icon.png': buildIcon(),
  };
}

/** The files as one ZIP, deterministic: fixed order, times and modes. */
export async function connectorZip(files: ConnectorFiles): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const name of CONNECTOR_FILES) zip.addBuffer(files[name], name, { mtime: FIXED_MTIME, mode: 0o100644, compress: true, forceDosTimestamp: true });
  zip.end();
  const parts: Buffer[] = [];
  for await (const part of zip.outputStream as AsyncIterable<Buffer>) parts.push(part);
  return Buffer.concat(parts);
}
