/**
 * Where one render stands. The response moves through one state union, forward only:
 *
 * ```text
 * rendering ──shellReady()──▶ streaming
 *     │                          │
 *     └───────fix(body)──────────┴──▶ fixed (the error document or a redirect)
 * ```
 *
 * Beside it, two facts that can happen in any of those states, each once: the result was
 * sent (a sink took it: the first byte is about to be written), and the end of the render
 * (`running` → `released`, when its timer, listeners and plugins are let go → `settled`,
 * when `finished` resolves). A client that disconnects releases a render still `rendering`;
 * an error document is `fixed` before it is sent.
 */
export type ResponseState =
  /** React has not finished the shell yet. */
  | { readonly kind: 'rendering' }
  /** The shell is ready: React's output goes to the visitor through the document stream. */
  | { readonly kind: 'streaming' }
  /**
   * The response is a whole document made by Kiln (the 500 error document or a redirect
   * document); what React still does is discarded. `afterShell` says whether the shell was
   * ready before.
   */
  | { readonly kind: 'fixed'; readonly body: string; readonly afterShell: boolean };

/** The end of a render: `released` (resources let go), then `settled` (`finished` resolved). */
export type EndState = 'running' | 'released' | 'settled';

/** The lifecycle of one render: the response state, whether it was sent, and its end. */
export class Lifecycle {
  response: ResponseState = { kind: 'rendering' };
  /** A sink took the result: the first byte is about to be written (it happens once). */
  sent = false;
  end: EndState = 'running';

  /** Whether React's shell was ready (also when the response was fixed after that). */
  get shellReady(): boolean {
    const state = this.response;
    return state.kind === 'streaming' || (state.kind === 'fixed' && state.afterShell);
  }

  /** The fixed document, once the response is one. */
  get body(): string | undefined {
    return this.response.kind === 'fixed' ? this.response.body : undefined;
  }

  /** The render released its resources (and may have settled). */
  get released(): boolean {
    return this.end !== 'running';
  }

  shellIsReady(): void {
    const state = this.response;
    if (state.kind === 'rendering') this.response = { kind: 'streaming' };
    else if (state.kind === 'fixed' && !state.afterShell)
      this.response = { ...state, afterShell: true };
  }

  /** Makes the response a fixed document; false if it already was one. */
  fix(body: string): boolean {
    if (this.response.kind === 'fixed') return false;
    this.response = { kind: 'fixed', body, afterShell: this.shellReady };
    return true;
  }

  /** Marks the render released; false if it already was. */
  release(): boolean {
    if (this.end !== 'running') return false;
    this.end = 'released';
    return true;
  }

  settle(): void {
    this.end = 'settled';
  }
}
