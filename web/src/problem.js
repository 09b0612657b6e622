// What the reporter is shown when something goes wrong: a catalog key
// (web/i18n/) and its parameters, so the page can say it in the reporter's
// language. Below every module that raises one.

/** A problem to show the reporter: a catalog key and its parameters. */
export class Problem extends Error {
  constructor(key, params = {}) {
    super(`${key} ${JSON.stringify(params)}`);
    this.key = key;
    this.params = params;
  }
}
