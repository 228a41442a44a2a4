/** An argument the store cannot act on (e.g. a paging cursor that names no session); the API turns it into 400. */
export class StoreInvalidInput extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'StoreInvalidInput';
    this.field = field;
  }
}
