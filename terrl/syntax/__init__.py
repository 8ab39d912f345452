"""Syntax: the Lark grammar driven by a fast LALR parser, CST -> AST lowering, the AST, and `terrl fmt`."""
