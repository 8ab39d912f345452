"""Semantics: imports and scopes, name resolution and type checking, AST -> IR lowering, value coercion.

The IR (`terrl.semantics.ir`) is what every later layer reads; none of them reads the AST."""
