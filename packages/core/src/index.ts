/**
 * @module
 * @kiln/core server entry.
 */
export type {
  KilnPlugin,
  PluginInstance,
  RenderContext,
  RenderDiagnostics,
  RenderErrorInfo,
  RenderMode,
  RequestInfo,
} from './types';

import { isbot } from 'isbot';
export const looksLikeBot = (ua: string): boolean => isbot(ua);
