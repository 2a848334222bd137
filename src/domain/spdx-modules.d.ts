// Types for the two SPDX packages the licence rules use (they ship none): spdx-expression-parse
// turns an expression into a tree, spdx-satisfies says whether one licence term is covered by a
// list of approved ones (ranges such as `GPL-2.0+` and `-or-later` included).

declare module 'spdx-expression-parse' {
  export interface SpdxLicence {
    license: string;
    plus?: true;
    exception?: string;
  }
  export interface SpdxConjunction {
    left: SpdxExpression;
    conjunction: 'and' | 'or';
    right: SpdxExpression;
  }
  export type SpdxExpression = SpdxLicence | SpdxConjunction;
  export default function parse(expression: string): SpdxExpression;
}

declare module 'spdx-satisfies' {
  export default function satisfies(expression: string, approved: string[]): boolean;
}
