"""The controller behind `descript-iac serve`: it watches workspaces (directories, git branches),
plans each new revision, applies what its policy allows and holds the rest for a person.

Built on the library facade (`descript_iac.workspace`): it plans and applies exactly as the CLI
does, under the same state locks; nothing here sends a job itself.
"""
