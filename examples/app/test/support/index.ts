/**
 * @module
 * The end-to-end suite shared by the example servers: each example's test file calls
 * `describeExampleServer(name, startServer)`. The HTTP and screenshot helpers are shared too.
 */
export {
  type HttpPicksGate,
  LocalPicksGate,
  type PicksGate,
  startHttpPicksGate,
} from './gate';
export { CHROME_UA, GOOGLEBOT_UA, getPage, getTimed, type Page, type TimedChunk } from './http';
export {
  differentPixels,
  expectSameLook,
  MAX_EDGE_PIXELS,
  screenshot,
  screenshotWithoutJavaScript,
  VIEWPORT,
} from './screens';
export {
  expectPicksStreamedAfterShell,
  PICKS_MARKUP,
  type StreamedShell,
  styleText,
} from './streaming';
export { describeExampleServer, type StartServer } from './suite';
