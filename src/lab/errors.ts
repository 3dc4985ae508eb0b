/**
 * Every lab failure carries a stable code so the CLI can map it to an exit
 * code and a hint without parsing the message text.
 */
export type LabErrorCode =
  | 'ELAB_PACKAGES_MISSING'
  | 'ELAB_INSTALL'
  | 'ELAB_NOT_ROOT'
  | 'ELAB_STATE_DIR'
  | 'ELAB_TLS'
  | 'ELAB_START'
  | 'ELAB_NOT_READY'
  | 'ELAB_STOP'
  | 'ELAB_BUSY'
  /** A bad --servers list: the CLI maps it to exit 2. */
  | 'ELAB_USAGE';

export class LabError extends Error {
  readonly code: LabErrorCode;

  constructor(code: LabErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabError';
    this.code = code;
  }
}
